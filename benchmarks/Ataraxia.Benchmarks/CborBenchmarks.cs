using System.Buffers;
using Ataraxia.Cbor;
using BenchmarkDotNet.Attributes;

namespace Ataraxia.Benchmarks;

/// <summary>
/// CBOR encoding and decoding of a small application payload
/// (<c>{"name":"sensor-1","value":21.5,"tags":["a","b"],"at":1700000000}</c>, 44 bytes) and of a 64-byte byte string,
/// once through the <see cref="CborValue"/> model and once through the raw <see cref="CborWriter"/>/<see cref="CborReader"/>.
/// </summary>
/// <remarks>
/// Raw encodes write into one <see cref="ArrayBufferWriter{T}"/> that is reset before each operation, so they measure the
/// writer alone. The raw map decode builds the same data a hand-written decoder would (the name and tag strings and a
/// <c>string[]</c>), so it can be compared with <see cref="MapValueDecode"/>; the raw byte string decode returns a slice.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(MicroConfig))]
public class CborBenchmarks
{
    private const long At = 1_700_000_000;

    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private CborValue _map = CborValue.Null;
    private byte[] _mapEncoded = [];
    private byte[] _bytes = [];
    private CborValue _bytesValue = CborValue.Null;
    private byte[] _bytesEncoded = [];

    [GlobalSetup]
    public void Setup()
    {
        _map = new CborMap
        {
            ["name"] = "sensor-1",
            ["value"] = 21.5,
            ["tags"] = new CborArray(["a", "b"]),
            ["at"] = At,
        };
        _mapEncoded = _map.Encode();

        _bytes = new byte[64];
        new Random(1).NextBytes(_bytes);
        _bytesValue = _bytes;
        _bytesEncoded = _bytesValue.Encode();

        // The raw paths must produce and accept exactly what the value model does.
        MapWriterEncode();
        if (!_buffer.WrittenSpan.SequenceEqual(_mapEncoded))
        {
            throw new InvalidOperationException("The raw writer and the value model encode the map differently.");
        }

        SensorFields fields = MapReaderDecode();
        if (fields.Name != "sensor-1" || fields.Value != 21.5 || fields.Tags is not ["a", "b"] || fields.At != At)
        {
            throw new InvalidOperationException("The raw reader misread the map.");
        }

        if (Bytes64ReaderDecode() != _bytes.Length || Bytes64WriterEncode() != _bytesEncoded.Length)
        {
            throw new InvalidOperationException("The raw byte string paths disagree with the value model.");
        }
    }

    [Benchmark]
    [BenchmarkCategory("Map")]
    public byte[] MapValueEncode() => _map.Encode();

    [Benchmark]
    [BenchmarkCategory("Map")]
    public CborValue MapValueDecode() => CborValue.Decode(_mapEncoded);

    [Benchmark]
    [BenchmarkCategory("Map")]
    public int MapWriterEncode()
    {
        _buffer.ResetWrittenCount();
        var writer = new CborWriter(_buffer);
        writer.WriteStartMap(4);
        writer.WriteUtf8String("name"u8);
        writer.WriteTextString("sensor-1");
        writer.WriteUtf8String("value"u8);
        writer.WriteNumber(21.5);
        writer.WriteUtf8String("tags"u8);
        writer.WriteStartArray(2);
        writer.WriteTextString("a");
        writer.WriteTextString("b");
        writer.WriteUtf8String("at"u8);
        writer.WriteInt64(At);
        return _buffer.WrittenCount;
    }

    [Benchmark]
    [BenchmarkCategory("Map")]
    public SensorFields MapReaderDecode()
    {
        var reader = new CborReader(_mapEncoded);
        int count = reader.ReadStartMap() ?? throw new InvalidDataException("Indefinite-length map.");
        string name = string.Empty;
        double value = 0;
        string[] tags = [];
        long at = 0;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> key = reader.ReadUtf8String();
            if (key.SequenceEqual("name"u8))
            {
                name = reader.ReadTextString();
            }
            else if (key.SequenceEqual("value"u8))
            {
                value = reader.PeekMajorType() is CborMajorType.UnsignedInteger or CborMajorType.NegativeInteger
                    ? reader.ReadInt64()
                    : reader.ReadDouble();
            }
            else if (key.SequenceEqual("tags"u8))
            {
                tags = new string[reader.ReadStartArray() ?? throw new InvalidDataException("Indefinite-length array.")];
                for (int j = 0; j < tags.Length; j++)
                {
                    tags[j] = reader.ReadTextString();
                }
            }
            else if (key.SequenceEqual("at"u8))
            {
                at = reader.ReadInt64();
            }
            else
            {
                reader.SkipValue();
            }
        }

        reader.ExpectEnd();
        return new SensorFields(name, value, tags, at);
    }

    [Benchmark]
    [BenchmarkCategory("Bytes64")]
    public byte[] Bytes64ValueEncode() => _bytesValue.Encode();

    [Benchmark]
    [BenchmarkCategory("Bytes64")]
    public CborValue Bytes64ValueDecode() => CborValue.Decode(_bytesEncoded);

    [Benchmark]
    [BenchmarkCategory("Bytes64")]
    public int Bytes64WriterEncode()
    {
        _buffer.ResetWrittenCount();
        new CborWriter(_buffer).WriteByteString(_bytes);
        return _buffer.WrittenCount;
    }

    [Benchmark]
    [BenchmarkCategory("Bytes64")]
    public int Bytes64ReaderDecode()
    {
        var reader = new CborReader(_bytesEncoded);
        ReadOnlySpan<byte> content = reader.ReadByteString();
        reader.ExpectEnd();
        return content.Length;
    }

    /// <summary>What the raw reader decodes the map into.</summary>
    public readonly record struct SensorFields(string Name, double Value, string[] Tags, long At);
}
