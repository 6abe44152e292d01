using System.Text.Json.Nodes;
using Ataraxia.Testing;

namespace Ataraxia.Cli.Tests;

/// <summary>
/// One run of the built tool (<c>dotnet Ataraxia.Cli.dll …</c>) as a child process. Its JSON lines are read as events;
/// every wait has a deadline, and disposing kills it (and what it started) if it still runs.
/// </summary>
internal sealed class CliProcess : IAsyncDisposable
{
    private CliProcess(LineProcess process) => Process = process;

    public static string ToolPath { get; } = Path.Combine(AppContext.BaseDirectory, "Ataraxia.Cli.dll");

    public static string DotNet { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host
        ? host
        : ExternalProgram.FindOnPath("dotnet") ?? "dotnet";

    public LineProcess Process { get; }

    /// <summary>Gets the lines the tool wrote on stdout.</summary>
    public IReadOnlyList<string> Stdout => [.. Process.Lines.Where(l => !l.IsError).Select(l => l.Text)];

    /// <summary>Gets the lines the tool wrote on stderr.</summary>
    public IReadOnlyList<string> Stderr => [.. Process.Lines.Where(l => l.IsError).Select(l => l.Text)];

    /// <summary>Gets the JSON events the tool wrote so far.</summary>
    public IEnumerable<JsonObject> Events => Process.Lines.Select(Parse).OfType<JsonObject>();

    public int ExitCode => Process.ExitCode;

    public static CliProcess Start(string name, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null) =>
        new(LineProcess.Start(name, DotNet, [ToolPath, .. arguments], environment));

    /// <summary>Runs the tool to its end (within <paramref name="timeout"/>) and returns the finished process for inspection.</summary>
    public static async Task<CliProcess> RunAsync(string name, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        CliProcess process = Start(name, arguments);
        try
        {
            await process.WaitForExitAsync(timeout);
            return process;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits for the <c>ready</c> event: the node's id and, when it listens on TCP, its port.</summary>
    public async Task<(string Id, int? Port)> WaitReadyAsync()
    {
        JsonObject ready = await WaitForEventAsync("ready");
        return ((string)ready["id"]!, (int?)ready["tcpPort"]);
    }

    /// <summary>Waits for the first event named <paramref name="name"/> (written before or after the call) that <paramref name="predicate"/> accepts.</summary>
    public async Task<JsonObject> WaitForEventAsync(string name, Func<JsonObject, bool>? predicate = null, TimeSpan? timeout = null)
    {
        ProcessLine line = await Process.WaitForLineAsync(
            l => Parse(l) is { } e && (string?)e["event"] == name && (predicate is null || predicate(e)),
            timeout);
        return Parse(line)!;
    }

    /// <summary>Waits for the tool to exit (30 s unless told), with its output in the failure message.</summary>
    public async Task WaitForExitAsync(TimeSpan? timeout = null)
    {
        await Process.WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(30));

        // The exit can be seen before the last lines: wait until both streams closed (a wait for a line that cannot
        // come then fails at once).
        try
        {
            await Process.WaitForLineAsync(_ => false, TimeSpan.FromSeconds(5));
        }
        catch (InvalidOperationException)
        {
        }
    }

    public string Transcript() => Process.Transcript();

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    private static JsonObject? Parse(ProcessLine line) => line.AsJsonObject();
}
