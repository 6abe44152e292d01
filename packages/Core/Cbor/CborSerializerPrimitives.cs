using System.Globalization;
using System.Numerics;

namespace Ataraxia.Cbor;

internal sealed class CborBooleanConverter : CborConverter<bool>
{
    protected override CborValue WriteCore(bool value, CborMappingContext context) => value;

    protected override bool ReadCore(CborValue value, CborMappingContext context) =>
        value.Kind == CborValueKind.Boolean ? value.AsBoolean() : throw context.ReadError(typeof(bool), value);
}

/// <summary>Integer types: JavaScript safe integers on write, any integral number that fits on read.</summary>
/// <typeparam name="T">The integer type.</typeparam>
internal sealed class CborIntegerConverter<T> : CborConverter<T>
    where T : struct, IBinaryInteger<T>, IMinMaxValue<T>
{
    private static readonly Int128 MinValue = Int128.CreateSaturating(T.MinValue);
    private static readonly Int128 MaxValue = Int128.CreateSaturating(T.MaxValue);

    protected override CborValue WriteCore(T value, CborMappingContext context)
    {
        Int128 number = Int128.CreateSaturating(value);
        if (number > CborWriter.MaxSafeInteger || number < CborWriter.MinSafeInteger)
        {
            throw context.WriteError(
                typeof(T),
                $"the value {value} lies outside ±(2^53 - 1), which JavaScript peers cannot represent exactly; send a double or a string instead");
        }

        return new CborInteger((long)number);
    }

    protected override T ReadCore(CborValue value, CborMappingContext context)
    {
        if (!CborNumbers.TryGetInteger(value, out Int128 number))
        {
            throw context.ReadError(typeof(T), value);
        }

        if (number < MinValue || number > MaxValue)
        {
            throw context.ReadError(typeof(T), value, "the number is out of range");
        }

        return T.CreateTruncating(number);
    }
}

internal static class CborNumbers
{
    // Larger than any integer type supported here (UInt128 tops out near 3.4e38, but beyond 2^53 nothing is exact anyway).
    private const double MaxConvertible = 1e38;

    public static bool TryGetInteger(CborValue value, out Int128 number)
    {
        switch (value)
        {
            case CborInteger integer:
                number = integer.Value;
                return true;
            case CborFloat { Value: var d } when double.IsInteger(d) && Math.Abs(d) < MaxConvertible:
                number = (Int128)d;
                return true;
            default:
                number = default;
                return false;
        }
    }

    public static bool TryGetDouble(CborValue value, out double number)
    {
        switch (value)
        {
            case CborInteger integer:
                number = integer.Value;
                return true;
            case CborFloat f:
                number = f.Value;
                return true;
            default:
                number = default;
                return false;
        }
    }

    public static double ReadDouble(CborValue value, Type target, CborMappingContext context) =>
        TryGetDouble(value, out double number) ? number : throw context.ReadError(target, value);
}

internal sealed class CborDoubleConverter : CborConverter<double>
{
    protected override CborValue WriteCore(double value, CborMappingContext context) => new CborFloat(value);

    protected override double ReadCore(CborValue value, CborMappingContext context) => CborNumbers.ReadDouble(value, typeof(double), context);
}

internal sealed class CborSingleConverter : CborConverter<float>
{
    protected override CborValue WriteCore(float value, CborMappingContext context) => new CborFloat(value);

    protected override float ReadCore(CborValue value, CborMappingContext context)
    {
        double number = CborNumbers.ReadDouble(value, typeof(float), context);
        float result = (float)number;
        return float.IsInfinity(result) && double.IsFinite(number) ? throw context.ReadError(typeof(float), value, "the number is out of range") : result;
    }
}

internal sealed class CborHalfConverter : CborConverter<Half>
{
    protected override CborValue WriteCore(Half value, CborMappingContext context) => new CborFloat((double)value);

    protected override Half ReadCore(CborValue value, CborMappingContext context)
    {
        double number = CborNumbers.ReadDouble(value, typeof(Half), context);
        Half result = (Half)number;
        return Half.IsInfinity(result) && double.IsFinite(number) ? throw context.ReadError(typeof(Half), value, "the number is out of range") : result;
    }
}

/// <summary><see cref="decimal"/> travels as a JavaScript number (a double).</summary>
internal sealed class CborDecimalConverter : CborConverter<decimal>
{
    // Slightly below decimal.MaxValue (7.9228e28) so that the conversion cannot overflow.
    private const double MaxConvertible = 7.9e28;

    protected override CborValue WriteCore(decimal value, CborMappingContext context) => new CborFloat((double)value);

    protected override decimal ReadCore(CborValue value, CborMappingContext context) => value switch
    {
        CborInteger integer => integer.Value,
        CborFloat { Value: var d } when double.IsFinite(d) && Math.Abs(d) < MaxConvertible => (decimal)d,
        CborFloat => throw context.ReadError(typeof(decimal), value, "the number is out of range"),
        _ => throw context.ReadError(typeof(decimal), value),
    };
}

internal sealed class CborStringConverter : CborConverter<string>
{
    protected override CborValue WriteCore(string value, CborMappingContext context) => new CborText(value);

    protected override string ReadCore(CborValue value, CborMappingContext context) =>
        value is CborText text ? text.Value : throw context.ReadError(typeof(string), value);
}

internal sealed class CborCharConverter : CborConverter<char>
{
    protected override CborValue WriteCore(char value, CborMappingContext context) => new CborText(value.ToString());

    protected override char ReadCore(CborValue value, CborMappingContext context) => value switch
    {
        CborText { Value.Length: 1 } text => text.Value[0],
        CborText => throw context.ReadError(typeof(char), value, "the text must be exactly one UTF-16 code unit"),
        _ => throw context.ReadError(typeof(char), value),
    };
}

internal sealed class CborGuidConverter : CborConverter<Guid>
{
    protected override CborValue WriteCore(Guid value, CborMappingContext context) => new CborText(value.ToString("D"));

    protected override Guid ReadCore(CborValue value, CborMappingContext context) =>
        value is CborText text && Guid.TryParse(text.Value, out Guid result) ? result : throw context.ReadError(typeof(Guid), value);
}

internal sealed class CborUriConverter : CborConverter<Uri>
{
    protected override CborValue WriteCore(Uri value, CborMappingContext context) => new CborText(value.OriginalString);

    protected override Uri ReadCore(CborValue value, CborMappingContext context) =>
        value is CborText text && Uri.TryCreate(text.Value, UriKind.RelativeOrAbsolute, out Uri? result) ? result : throw context.ReadError(typeof(Uri), value);
}

internal sealed class CborVersionConverter : CborConverter<Version>
{
    protected override CborValue WriteCore(Version value, CborMappingContext context) => new CborText(value.ToString());

    protected override Version ReadCore(CborValue value, CborMappingContext context) =>
        value is CborText text && Version.TryParse(text.Value, out Version? result) ? result : throw context.ReadError(typeof(Version), value);
}

internal sealed class CborByteArrayConverter : CborConverter<byte[]>
{
    protected override CborValue WriteCore(byte[] value, CborMappingContext context) => new CborBytes(value);

    protected override byte[] ReadCore(CborValue value, CborMappingContext context) =>
        value is CborBytes bytes ? bytes.Value.ToArray() : throw context.ReadError(typeof(byte[]), value);
}

internal sealed class CborReadOnlyMemoryConverter : CborConverter<ReadOnlyMemory<byte>>
{
    protected override CborValue WriteCore(ReadOnlyMemory<byte> value, CborMappingContext context) => new CborBytes(value.Span);

    // CborBytes owns a private copy and never changes it, so a read-only view of it can be shared.
    protected override ReadOnlyMemory<byte> ReadCore(CborValue value, CborMappingContext context) =>
        value is CborBytes bytes ? bytes.Value : throw context.ReadError(typeof(ReadOnlyMemory<byte>), value);
}

internal sealed class CborMemoryConverter : CborConverter<Memory<byte>>
{
    protected override CborValue WriteCore(Memory<byte> value, CborMappingContext context) => new CborBytes(value.Span);

    protected override Memory<byte> ReadCore(CborValue value, CborMappingContext context) =>
        value is CborBytes bytes ? bytes.Value.ToArray() : throw context.ReadError(typeof(Memory<byte>), value);
}

internal static class CborDates
{
    private static readonly string[] IsoFormats =
    [
        "yyyy'-'MM'-'dd'T'HH':'mm':'ssK",
        "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'FFFFFFFK",
        "yyyy'-'MM'-'dd'T'HH':'mmK",
        "yyyy'-'MM'-'dd",
    ];

    // JavaScript peers send dates in whole seconds (tag 0 without fractions); send exactly that.
    public static CborDate ToDate(long utcTicks) => new(new DateTimeOffset(utcTicks - (utcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero));

    public static DateTimeOffset Read(CborValue value, Type target, CborMappingContext context) => value switch
    {
        CborDate date => date.Value,
        CborText text when DateTimeOffset.TryParseExact(text.Value, IsoFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset parsed) => parsed,
        _ => throw context.ReadError(target, value),
    };
}

/// <summary><see cref="DateTime"/>: unspecified kind is taken as UTC, local time is converted; read as UTC.</summary>
internal sealed class CborDateTimeConverter : CborConverter<DateTime>
{
    protected override CborValue WriteCore(DateTime value, CborMappingContext context)
    {
        DateTime utc = value.Kind switch
        {
            DateTimeKind.Local => value.ToUniversalTime(),
            DateTimeKind.Unspecified => DateTime.SpecifyKind(value, DateTimeKind.Utc),
            _ => value,
        };
        return CborDates.ToDate(utc.Ticks);
    }

    protected override DateTime ReadCore(CborValue value, CborMappingContext context) => CborDates.Read(value, typeof(DateTime), context).UtcDateTime;
}

internal sealed class CborDateTimeOffsetConverter : CborConverter<DateTimeOffset>
{
    protected override CborValue WriteCore(DateTimeOffset value, CborMappingContext context) => CborDates.ToDate(value.UtcTicks);

    protected override DateTimeOffset ReadCore(CborValue value, CborMappingContext context) => CborDates.Read(value, typeof(DateTimeOffset), context);
}

internal sealed class CborDateOnlyConverter : CborConverter<DateOnly>
{
    private const string Format = "yyyy'-'MM'-'dd";

    protected override CborValue WriteCore(DateOnly value, CborMappingContext context) => new CborText(value.ToString(Format, CultureInfo.InvariantCulture));

    protected override DateOnly ReadCore(CborValue value, CborMappingContext context) => value switch
    {
        CborText text when DateOnly.TryParseExact(text.Value, Format, CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly date) => date,
        CborDate date => DateOnly.FromDateTime(date.Value.UtcDateTime),
        _ => throw context.ReadError(typeof(DateOnly), value),
    };
}

internal sealed class CborTimeOnlyConverter : CborConverter<TimeOnly>
{
    private static readonly string[] Formats = ["HH':'mm':'ss", "HH':'mm':'ss'.'FFFFFFF", "HH':'mm"];

    protected override CborValue WriteCore(TimeOnly value, CborMappingContext context) =>
        new CborText(value.ToString(value.Ticks % TimeSpan.TicksPerSecond == 0 ? Formats[0] : Formats[1], CultureInfo.InvariantCulture));

    protected override TimeOnly ReadCore(CborValue value, CborMappingContext context) =>
        value is CborText text && TimeOnly.TryParseExact(text.Value, Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out TimeOnly time)
            ? time
            : throw context.ReadError(typeof(TimeOnly), value);
}

/// <summary><see cref="TimeSpan"/> ↔ a number of milliseconds.</summary>
internal sealed class CborTimeSpanConverter : CborConverter<TimeSpan>
{
    protected override CborValue WriteCore(TimeSpan value, CborMappingContext context) => new CborFloat(value.Ticks / (double)TimeSpan.TicksPerMillisecond);

    protected override TimeSpan ReadCore(CborValue value, CborMappingContext context)
    {
        double ticks = Math.Round(CborNumbers.ReadDouble(value, typeof(TimeSpan), context) * TimeSpan.TicksPerMillisecond);

        // (double)long.MaxValue rounds up to 2^63, so the upper bound is exclusive; NaN fails both tests.
        return ticks >= long.MinValue && ticks < long.MaxValue
            ? TimeSpan.FromTicks((long)ticks)
            : throw context.ReadError(typeof(TimeSpan), value, "the number of milliseconds is out of range");
    }
}
