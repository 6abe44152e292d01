using System.Text.Json.Nodes;
using Ataraxia.Testing;

namespace Ataraxia.Local.Tests;

/// <summary>
/// One <c>Ataraxia.Local.TestHost</c> process: a node with a machine-local transport. Its state (id, leadership,
/// the nodes it sees) is replayed from the JSON lines it printed, so a test can poll it with a deadline.
/// </summary>
internal sealed class LocalNodeProcess : IAsyncDisposable
{
    private LocalNodeProcess(LineProcess process) => Process = process;

    public static string HostPath { get; } = Path.Combine(AppContext.BaseDirectory, "Ataraxia.Local.TestHost.dll");

    public static string DotNet { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host
        ? host
        : ExternalProgram.FindOnPath("dotnet") ?? "dotnet";

    public LineProcess Process { get; }

    public string? Id => Events("ready").Select(e => (string?)e["id"]).FirstOrDefault();

    /// <summary>Gets a value indicating whether the process leads now (its last leadership event said so).</summary>
    public bool IsLeader => Events("leader-changed").Select(e => (bool)e["isLeader"]!).LastOrDefault();

    /// <summary>Gets a value indicating whether the process ever reported being the leader.</summary>
    public bool WasEverLeader => Events("leader-changed").Any(e => (bool)e["isLeader"]!);

    /// <summary>Gets the ids the process sees now, replaying available and unavailable in order.</summary>
    public IReadOnlySet<string> Visible
    {
        get
        {
            var visible = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonObject e in Events("available", "unavailable"))
            {
                string id = (string)e["id"]!;
                if ((string?)e["event"] == "available")
                {
                    visible.Add(id);
                }
                else
                {
                    visible.Remove(id);
                }
            }

            return visible;
        }
    }

    public IEnumerable<string> Errors => Events("log", "fatal")
        .Where(e => (string?)e["event"] == "fatal" || (string?)e["level"] is "Error" or "Critical")
        .Select(e => e.ToJsonString());

    public static LocalNodeProcess Start(string name, string path, bool waitForGo = false)
    {
        List<string> arguments = [HostPath, "--path", path];
        if (waitForGo)
        {
            arguments.Add("--wait-for-go");
        }

        return new LocalNodeProcess(LineProcess.Start(name, DotNet, arguments));
    }

    /// <summary>Starts a node inside a network namespace (a "machine"), with extra test-host arguments.</summary>
    public static LocalNodeProcess StartIn(NamespaceHost host, string name, string path, params string[] extra) =>
        new(host.Start(name, DotNet, [HostPath, "--path", path, .. extra]));

    /// <summary>Sees exactly <paramref name="others"/> (every live node but itself).</summary>
    public bool SeesExactly(IEnumerable<LocalNodeProcess> others) =>
        Visible.SetEquals(others.Where(o => o != this).Select(o => o.Id ?? "?"));

    public Task WaitReadyAsync() => Process.WaitForTextAsync("\"event\":\"ready\"");

    public Task KillAsync() => Process.KillAsync();

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    private IEnumerable<JsonObject> Events(params string[] names)
    {
        foreach (ProcessLine line in Process.Lines)
        {
            if (line.IsError || !line.Text.StartsWith('{'))
            {
                continue;
            }

            JsonObject? e;
            try
            {
                e = JsonNode.Parse(line.Text) as JsonObject;
            }
            catch (System.Text.Json.JsonException)
            {
                continue;
            }

            if (e is not null && names.Contains((string?)e["event"]))
            {
                yield return e;
            }
        }
    }
}
