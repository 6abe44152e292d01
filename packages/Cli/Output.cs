using System.Text.Json.Nodes;
using Spectre.Console;

namespace Ataraxia.Cli;

/// <summary>
/// Where a command writes: with <c>--json</c>, one JSON object per line on stdout (each with an <c>event</c> key); else
/// plain lines, or tables and a live view when stdout is a terminal. Status and errors go to stderr. Thread-safe.
/// </summary>
internal sealed class Output
{
    private readonly Lock _gate = new();

    public Output(bool json)
    {
        Json = json;
        Rich = !json && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Ansi;
    }

    /// <summary>Gets a value indicating whether the output is JSON lines.</summary>
    public bool Json { get; }

    /// <summary>Gets a value indicating whether stdout is a terminal that gets tables and colours.</summary>
    public bool Rich { get; }

    /// <summary>Writes one JSON line (JSON mode only).</summary>
    public void Event(string name, JsonObject fields)
    {
        if (!Json)
        {
            return;
        }

        var line = new JsonObject { ["event"] = name };
        foreach ((string key, JsonNode? value) in fields.ToList())
        {
            fields.Remove(key);
            line[key] = value;
        }

        Write(Console.Out, line.ToJsonString(CborJson.LineOptions));
    }

    /// <summary>Writes a line of data to stdout.</summary>
    public void Line(string text) => Write(Console.Out, text);

    /// <summary>Writes a line of status to stderr (not in JSON mode, where events say it).</summary>
    public void Status(string text)
    {
        if (!Json)
        {
            Write(Console.Error, text);
        }
    }

    /// <summary>Writes a rendered Spectre object (rich mode).</summary>
    public void Render(Spectre.Console.Rendering.IRenderable renderable)
    {
        lock (_gate)
        {
            AnsiConsole.Write(renderable);
        }
    }

    /// <summary>Writes an error line to stderr.</summary>
    public static void Error(string message) => Console.Error.WriteLine($"ataraxia: {CborJson.OneLine(message)}");

    /// <summary>Formats rows as plain columns padded to the widest cell.</summary>
    public static IEnumerable<string> Columns(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        List<IReadOnlyList<string>> all = [header, .. rows];
        int[] widths = [.. Enumerable.Range(0, header.Count).Select(i => all.Max(r => r[i].Length))];
        foreach (IReadOnlyList<string> row in all)
        {
            yield return string.Join("  ", row.Select((cell, i) => i == row.Count - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd();
        }
    }

    private void Write(TextWriter writer, string text)
    {
        lock (_gate)
        {
            writer.WriteLine(text);
            writer.Flush();
        }
    }
}
