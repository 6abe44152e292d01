using System.Buffers;
using Ataraxia.Protocol;
using BenchmarkDotNet.Attributes;

namespace Ataraxia.Benchmarks;

/// <summary>
/// The peer message codec on the data path: a DATA message with a 64-byte payload (one hop in its path, as a node
/// originates it) and a NODE_SUMMARY listing 100 nodes.
/// </summary>
/// <remarks>
/// <para>
/// Encodes write the stream frame (<see cref="PeerMessageCodec.WriteFrame"/>: length header plus message) into one
/// <see cref="ArrayBufferWriter{T}"/> that is reset before each operation; the messages are built once in the setup. So
/// an encode measures the codec alone, as the session's write loop uses it (it writes into the transport's pipe).
/// </para>
/// <para>
/// Decodes start from the frame bytes as the session's read loop does: <see cref="PeerMessageCodec.TryReadFrame"/> over a
/// single-segment <see cref="ReadOnlySequence{T}"/>, then <see cref="PeerMessageCodec.Decode(in ReadOnlySequence{byte})"/>.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(MicroConfig))]
public class PeerMessageBenchmarks
{
    private const long MaxFrameSize = 16 * 1024 * 1024;

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private PeerData _data = null!;
    private byte[] _dataFrame = [];
    private PeerNodeSummary _summary = null!;
    private byte[] _summaryFrame = [];

    private readonly TypeNameCache _typeNames = new();

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);

        // The payload is exactly one CBOR item of 64 bytes: a byte string with a 2-byte head and 62 bytes of content.
        byte[] payload = new byte[64];
        payload[0] = 0x58;
        payload[1] = 62;
        random.NextBytes(payload.AsSpan(2));
        _data = new PeerData(NewId(random), "sensor", payload, [new PeerPathEntry(NewId(random), 42)]);
        _dataFrame = Frame(_data);

        var nodes = new List<NodeVersion>(100);
        for (int i = 0; i < 100; i++)
        {
            nodes.Add(new NodeVersion(NewId(random), (ulong)random.Next(1, 100_000)));
        }

        _summary = new PeerNodeSummary(12_345, nodes);
        _summaryFrame = Frame(_summary);

        var decoded = (PeerData)DecodeData();
        if (decoded.Target != _data.Target || !decoded.Data.Span.SequenceEqual(payload) || decoded.Path.Count != 1
            || ((PeerNodeSummary)DecodeSummary100()).Nodes.Count != 100)
        {
            throw new InvalidOperationException("The codec does not round-trip the benchmark messages.");
        }
    }

    [Benchmark]
    [BenchmarkCategory("Data")]
    public int EncodeData()
    {
        _buffer.ResetWrittenCount();
        return PeerMessageCodec.WriteFrame(_data, _buffer);
    }

    [Benchmark]
    [BenchmarkCategory("Data")]
    public PeerMessage DecodeData() => DecodeFrame(_dataFrame);

    [Benchmark]
    [BenchmarkCategory("Data")]
    public PeerMessage EncodeDecodeData()
    {
        _buffer.ResetWrittenCount();
        PeerMessageCodec.WriteFrame(_data, _buffer);
        var frame = new ReadOnlySequence<byte>(_buffer.WrittenMemory);
        return PeerMessageCodec.TryReadFrame(ref frame, MaxFrameSize, out ReadOnlySequence<byte> message)
            ? PeerMessageCodec.Decode(message)
            : throw new InvalidOperationException("Incomplete frame.");
    }

    /// <summary>Decoding as a session does it: the DATA type string comes from the session's cache of recent types.</summary>
    [Benchmark]
    [BenchmarkCategory("Data")]
    public PeerMessage DecodeDataInSession()
    {
        var frame = new ReadOnlySequence<byte>(_dataFrame);
        return PeerMessageCodec.TryReadFrame(ref frame, MaxFrameSize, out ReadOnlySequence<byte> message)
            ? PeerMessageCodec.Decode(message, _typeNames)
            : throw new InvalidOperationException("Incomplete frame.");
    }

    [Benchmark]
    [BenchmarkCategory("Summary")]
    public int EncodeSummary100()
    {
        _buffer.ResetWrittenCount();
        return PeerMessageCodec.WriteFrame(_summary, _buffer);
    }

    [Benchmark]
    [BenchmarkCategory("Summary")]
    public PeerMessage DecodeSummary100() => DecodeFrame(_summaryFrame);

    private static PeerMessage DecodeFrame(byte[] bytes)
    {
        var frame = new ReadOnlySequence<byte>(bytes);
        return PeerMessageCodec.TryReadFrame(ref frame, MaxFrameSize, out ReadOnlySequence<byte> message)
            ? PeerMessageCodec.Decode(message)
            : throw new InvalidOperationException("Incomplete frame.");
    }

    private static byte[] Frame(PeerMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        PeerMessageCodec.WriteFrame(message, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static NodeId NewId(Random random)
    {
        Span<byte> bytes = stackalloc byte[NodeId.StandardLength];
        random.NextBytes(bytes);
        return NodeId.FromRandomBytes(bytes);
    }
}
