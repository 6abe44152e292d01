using System.Globalization;

namespace Ataraxia.Cli;

/// <summary>Durations on the command line: <c>500ms</c>, <c>10s</c>, <c>1.5m</c>, <c>2h</c>; a bare number is seconds.</summary>
internal static class Duration
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        (string number, double unit) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60.0),
            _ when text.EndsWith('h') || text.EndsWith('H') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double amount)
            || !double.IsFinite(amount) || amount * unit > TimeSpan.FromDays(24).TotalSeconds)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(amount * unit);
        return true;
    }

    /// <summary>Formats a duration the way it is written on the command line.</summary>
    public static string Format(TimeSpan value) =>
        value.TotalSeconds >= 1 && value.Milliseconds == 0
            ? value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s"
            : value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
}
