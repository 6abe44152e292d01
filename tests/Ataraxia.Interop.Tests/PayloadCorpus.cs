using System.Text;
using Ataraxia.Cbor;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// Application payloads of every kind WIRE.md §7.3 maps between C# and JavaScript, each at the edges of its
/// encoding: integers at every argument width within ±(2^53 − 1), numbers that need float32 or float64, the four
/// special numbers, text (empty, non-ASCII, astral, long), bytes, arrays, nested maps (with the integer-like keys
/// JavaScript orders first) and dates. Every value survives a trip through JavaScript unchanged.
/// </summary>
public static class PayloadCorpus
{
    /// <summary>The integers: both signs, each side of every boundary between argument widths (WIRE.md §2.1).</summary>
    public static IReadOnlyList<long> Integers { get; } =
    [
        0, 1, 23, 24, 255, 256, 65535, 65536, 4294967295, 4294967296, 9007199254740991,
        -1, -24, -25, -256, -257, -65536, -65537, -4294967296, -4294967297, -9007199254740991,
    ];

    /// <summary>Numbers that are not safe integers: float32-exact ones (sent as <c>fa</c>) and others (<c>fb</c>).</summary>
    public static IReadOnlyList<double> Floats { get; } =
    [
        1.5, -1.5, 0.5, 65504.5, 5.960464477539063E-08,     // float32
        3.4028234663852886E+38, 1.401298464324817E-45,        // float32 maximum and smallest subnormal
        1.1754943508222875E-38, 9007199254740992, 1E+21,       // float32: smallest normal, 2^53 (not safe), 10^21
        0.1, -0.1, Math.PI, -Math.E, 123456.789,               // float64
        double.MaxValue, -double.MaxValue, double.Epsilon,     // float64 extremes
        2.2250738585072014E-308, 18014398509481988,           // float64: smallest normal, 2^54 + 4 (not safe)
    ];

    /// <summary>Gets the payloads, each with a short name used in message types.</summary>
    public static IReadOnlyList<(string Name, CborValue Value)> Items { get; } = Build(); // after the lists it uses: static fields initialise in order

    private static List<(string Name, CborValue Value)> Build()
    {
        var integers = new CborArray(Integers.Select(i => (CborValue)i));
        var floats = new CborArray(Floats.Select(f => (CborValue)f));
        var specials = new CborArray([-0.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity]);
        var texts = new CborArray(
        [
            string.Empty, "a", "grüße", "世界", "😀 astral 𝄞", "nul\0inside", "quote \" backslash \\ newline \n tab \t",
            new string('x', 23), new string('y', 24), new string('é', 200), Repeat("Ünïcødé ✓ ", 7000),
        ]);
        var bytes = new CborArray(
        [
            Array.Empty<byte>(), new byte[] { 0 }, new byte[] { 0xff, 0x00, 0x80 }, Pattern(23), Pattern(24), Pattern(256), Pattern(70_000),
        ]);
        var arrays = new CborArray(
        [
            new CborArray([]),
            new CborArray([new CborArray([])]),
            new CborArray([1, new CborArray([2, new CborArray([3, new CborArray([])])])]),
            new CborArray(Enumerable.Range(0, 30).Select(i => (CborValue)(i % 3 == 0 ? i : i % 3 == 1 ? $"s{i}" : CborValue.Null))),
            new CborArray([CborValue.Undefined, CborValue.Null, true, false]),
        ]);
        var maps = new CborMap
        {
            ["empty"] = new CborMap(),
            ["nested"] = new CborMap { ["a"] = new CborMap { ["b"] = new CborMap { ["c"] = new CborMap { ["d"] = "deep" } } } },
            ["integer-like keys"] = new CborMap { ["b"] = 1, ["10"] = 2, ["2"] = 3, ["a"] = 4, ["0"] = 5 },
            ["odd keys"] = new CborMap { [string.Empty] = "empty key", ["ключ"] = "non-ASCII key", ["with space"] = CborValue.Undefined, ["-1"] = "not integer-like" },
            ["mixed"] = new CborMap { ["list"] = new CborArray([new CborMap { ["x"] = 1.5 }, new CborMap()]), ["bytes"] = new byte[] { 1, 2 } },
        };
        var dates = new CborArray(
        [
            Date(1970, 1, 1, 0, 0, 0), Date(2000, 2, 29, 23, 59, 59), Date(2038, 1, 19, 3, 14, 8),
            Date(1900, 1, 1, 0, 0, 0), Date(9999, 12, 31, 23, 59, 59), Date(1, 1, 1, 0, 0, 0),
            new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.FromHours(2)), // sent as UTC
        ]);

        var everything = new CborMap
        {
            ["null"] = CborValue.Null,
            ["undefined"] = CborValue.Undefined,
            ["true"] = true,
            ["false"] = false,
            ["integers"] = integers,
            ["floats"] = floats,
            ["specials"] = specials,
            ["texts"] = texts,
            ["bytes"] = bytes,
            ["arrays"] = arrays,
            ["maps"] = maps,
            ["dates"] = dates,
        };

        return
        [
            ("null", CborValue.Null),
            ("undefined", CborValue.Undefined),
            ("true", true),
            ("false", false),
            ("integer-max", 9007199254740991L),
            ("integer-min", -9007199254740991L),
            ("float", 0.1),
            ("negative-zero", -0.0),
            ("nan", double.NaN),
            ("text", "grüße, 世界 😀"),
            ("bytes", Pattern(1000)),
            ("date", Date(2021, 3, 4, 5, 6, 7)),
            ("integers", integers),
            ("floats", floats),
            ("specials", specials),
            ("texts", texts),
            ("byte-strings", bytes),
            ("arrays", arrays),
            ("maps", maps),
            ("dates", dates),
            ("everything", everything),
        ];
    }

    private static CborValue Date(int year, int month, int day, int hour, int minute, int second) =>
        new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero);

    private static string Repeat(string text, int totalLength)
    {
        var builder = new StringBuilder(totalLength + text.Length);
        while (builder.Length < totalLength)
        {
            builder.Append(text);
        }

        return builder.ToString();
    }

    private static byte[] Pattern(int length) => TestPatterns.Bytes(length, seed: (uint)length);
}

/// <summary>Deterministic byte patterns that <c>js/node.js</c> computes the same way (<c>patternBytes</c>).</summary>
public static class TestPatterns
{
    /// <summary>Xorshift32 (13, 17, 5) from <paramref name="seed"/> (0 becomes 1), one step per byte, low 8 bits.</summary>
    public static byte[] Bytes(int length, uint seed)
    {
        var bytes = new byte[length];
        uint x = seed == 0 ? 1 : seed;
        for (int i = 0; i < bytes.Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            bytes[i] = (byte)x;
        }

        return bytes;
    }
}
