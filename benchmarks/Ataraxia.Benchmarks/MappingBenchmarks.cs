using Ataraxia.Cbor;
using BenchmarkDotNet.Attributes;

namespace Ataraxia.Benchmarks;

/// <summary>
/// Payload mapping with <see cref="CborSerializer"/>: a small record to and from <see cref="CborValue"/>, the encode of
/// the mapped value, and the whole way to and from bytes (<see cref="CborSerializer.Serialize{T}"/> and
/// <see cref="CborSerializer.Deserialize{T}"/>). The record maps to the same 44-byte map as in <see cref="CborBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MicroConfig))]
public class MappingBenchmarks
{
    private SensorReading _reading = null!;
    private CborValue _mapped = CborValue.Null;
    private byte[] _encoded = [];

    [GlobalSetup]
    public void Setup()
    {
        _reading = new SensorReading("sensor-1", 21.5, ["a", "b"], 1_700_000_000);
        _mapped = CborSerializer.ToValue(_reading);
        _encoded = _mapped.Encode();
        SensorReading? back = CborSerializer.Deserialize<SensorReading>(_encoded);
        if (back is null || back.Name != _reading.Name || back.Value != _reading.Value || !back.Tags.SequenceEqual(_reading.Tags) || back.At != _reading.At)
        {
            throw new InvalidOperationException("The record does not round-trip.");
        }
    }

    [Benchmark]
    [BenchmarkCategory("Value")]
    public CborValue ToValue() => CborSerializer.ToValue(_reading);

    [Benchmark]
    [BenchmarkCategory("Value")]
    public SensorReading? FromValue() => CborSerializer.FromValue<SensorReading>(_mapped);

    [Benchmark]
    [BenchmarkCategory("Bytes")]
    public byte[] EncodeMapped() => _mapped.Encode();

    [Benchmark]
    [BenchmarkCategory("Bytes")]
    public byte[] Serialize() => CborSerializer.Serialize(_reading);

    [Benchmark]
    [BenchmarkCategory("Bytes")]
    public SensorReading? Deserialize() => CborSerializer.Deserialize<SensorReading>(_encoded);

    /// <summary>The mapped record: <c>{"name":…,"value":…,"tags":[…],"at":…}</c>.</summary>
    public sealed record SensorReading(string Name, double Value, IReadOnlyList<string> Tags, long At);
}
