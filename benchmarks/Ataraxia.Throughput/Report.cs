using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ataraxia.Throughput;

/// <summary>One measured row of the table.</summary>
/// <remarks>
/// Throughput rows fill <see cref="MessagesPerSecond"/> and <see cref="MegabytesPerSecond"/>; latency rows fill the
/// percentiles (microseconds); other rows (convergence, memory) fill <see cref="Value"/> with <see cref="Unit"/>.
/// <see cref="Baseline"/> and <see cref="Js"/> name the rows this one is compared with, by <see cref="Id"/>.
/// </remarks>
public sealed record Row
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public double? MessagesPerSecond { get; init; }

    public double? MegabytesPerSecond { get; init; }

    public double? P50Microseconds { get; init; }

    public double? P99Microseconds { get; init; }

    public double? P999Microseconds { get; init; }

    public double? Value { get; init; }

    /// <summary>Gets the managed bytes allocated per message in the whole process (every node of the row), when measured.</summary>
    public double? AllocatedPerMessage { get; init; }

    /// <summary>Gets the CPU time the whole process spent per message (every node of the row, user and kernel), in microseconds.</summary>
    public double? CpuPerMessage { get; init; }

    public string? Unit { get; init; }

    /// <summary>Gets the id of the row this one is divided by in the "vs baseline" column.</summary>
    public string? Baseline { get; init; }

    /// <summary>Gets the id of the JavaScript row this one is divided by in the "vs JS" column.</summary>
    public string? Js { get; init; }

    /// <summary>Gets what the ratios compare: "MB/s" for bulk rows; otherwise msg/s, p50 or the value, whichever the row has.</summary>
    public string? RatioOf { get; init; }

    public string? Target { get; init; }

    /// <summary>Gets whether the target was met, when there is one.</summary>
    public bool? Met { get; init; }

    public string? Note { get; init; }

    public double? VsBaseline { get; set; }

    public double? VsJs { get; set; }
}

/// <summary>Collects the rows of one run, computes the ratios and writes the markdown table and the JSON file.</summary>
public sealed class Report
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    private readonly List<Row> _rows = [];

    public IReadOnlyList<Row> Rows => _rows;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public void Add(Row row)
    {
        lock (_rows)
        {
            _rows.Add(row);
        }

        Console.Error.WriteLine($"  {row.Name}: {Describe(row)}");
    }

    public Row? Find(string id) => _rows.FirstOrDefault(r => r.Id == id);

    public void Replace(int index, Row row) => _rows[index] = row;

    public void ComputeRatios()
    {
        foreach (Row row in _rows)
        {
            row.VsBaseline = Ratio(row, row.Baseline is null ? null : Find(row.Baseline));
            row.VsJs = Ratio(row, row.Js is null ? null : Find(row.Js));
        }
    }

    public static string Machine =>
        $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription.Trim()}, {RuntimeInformation.ProcessArchitecture}, .NET {Environment.Version}";

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Machine}. Run: {StartedAt:yyyy-MM-dd HH:mm} UTC.");
        text.AppendLine();
        text.AppendLine("| row | msg/s | MB/s | p50 µs | p99 µs | p99.9 µs | value | CPU µs/msg | alloc B/msg | vs baseline | vs JS | target | met |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|:-:|");
        foreach (Row row in _rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {row.Name} ");
            text.Append(CultureInfo.InvariantCulture, $"| {Format(row.MessagesPerSecond, "N0")} | {Format(row.MegabytesPerSecond, "N1")} ");
            text.Append(CultureInfo.InvariantCulture, $"| {Format(row.P50Microseconds, "N0")} | {Format(row.P99Microseconds, "N0")} | {Format(row.P999Microseconds, "N0")} ");
            text.Append(CultureInfo.InvariantCulture, $"| {(row.Value is double v ? v.ToString(v >= 100 ? "N0" : "0.##", CultureInfo.InvariantCulture) + " " + row.Unit : "")} ");
            text.Append(CultureInfo.InvariantCulture, $"| {Format(row.CpuPerMessage, "N2")} | {Format(row.AllocatedPerMessage, "N0")} | {FormatRatio(row.VsBaseline)} | {FormatRatio(row.VsJs)} ");
            text.Append(CultureInfo.InvariantCulture, $"| {row.Target} | {(row.Met is bool met ? (met ? "yes" : "**no**") : "")} |");
            text.AppendLine();
        }

        List<Row> notes = [.. _rows.Where(r => r.Note is not null)];
        if (notes.Count > 0)
        {
            text.AppendLine();
            foreach (Row row in notes)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {row.Name}: {row.Note}");
            }
        }

        return text.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(new { machine = Machine, startedAt = StartedAt, rows = _rows }, JsonOptions);

    private static double? Ratio(Row row, Row? other)
    {
        if (other is null)
        {
            return null;
        }

        // Lower is better for latency; the ratio is always "this / other" of the row's main number.
        double? mine = MainNumber(row);
        double? theirs = MainNumber(other);
        return mine is double m && theirs is double t && t > 0 ? m / t : null;
    }

    private static double? MainNumber(Row row) =>
        row.RatioOf == "MB/s" ? row.MegabytesPerSecond
        : row.MessagesPerSecond ?? row.P50Microseconds ?? row.Value;

    private static string Describe(Row row)
    {
        var parts = new List<string>();
        if (row.MessagesPerSecond is double m)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{m:N0} msg/s"));
        }

        if (row.MegabytesPerSecond is double mb)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{mb:N1} MB/s"));
        }

        if (row.P50Microseconds is double p50)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"p50 {p50:N0} µs, p99 {row.P99Microseconds:N0} µs, p99.9 {row.P999Microseconds:N0} µs"));
        }

        if (row.CpuPerMessage is double c)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{c:N2} µs CPU/msg"));
        }

        if (row.AllocatedPerMessage is double a)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{a:N0} B allocated/msg"));
        }

        if (row.Value is double v)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{v:0.###} {row.Unit}"));
        }

        if (row.Note is not null)
        {
            parts.Add(row.Note);
        }

        return string.Join(", ", parts);
    }

    private static string Format(double? value, string format) => value is double v ? v.ToString(format, CultureInfo.InvariantCulture) : "";

    private static string FormatRatio(double? value) =>
        value is double v ? v.ToString(v >= 10 ? "0.0" : v >= 0.1 ? "0.00" : "G2", CultureInfo.InvariantCulture) + "×" : "";
}

/// <summary>What every scenario gets: the run's settings and the report to add rows to.</summary>
public sealed record RunContext(Report Report, TimeSpan Duration, TimeSpan Warmup, int Window, int RttSamples, bool Quick)
{
    /// <summary>Gets the row ids to measure (from <c>--only</c>); empty for all rows of the selected scenarios.</summary>
    public IReadOnlySet<string> Only { get; init; } = new HashSet<string>();

    /// <summary>Gets the allocation sampler when <c>--alloc</c> was given.</summary>
    public AllocationSampler? Sampler { get; init; }

    /// <summary>Returns whether a row is to be measured.</summary>
    public bool Wants(string id) => Only.Count == 0 || Only.Contains(id);
}
