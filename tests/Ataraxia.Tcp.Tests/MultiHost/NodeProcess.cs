using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests.MultiHost;

/// <summary>
/// A node of tests/Ataraxia.Tcp.NodeRunner running inside a network namespace, driven by JSON lines (commands on
/// stdin, events on stdout). Every event is kept, so a wait also sees events that arrived before it began; pass
/// <c>since</c> (a <see cref="Mark"/>) to wait only for later ones.
/// </summary>
/// <remarks>
/// The process is <c>ip netns exec NS dotnet Ataraxia.Tcp.NodeRunner.dll …</c>; <c>ip netns exec</c> execs, so
/// the process is the node itself and <see cref="KillAsync"/> kills it without a goodbye. Disposing kills it too
/// (use <see cref="LeaveAsync"/> for a graceful end).
/// </remarks>
internal sealed class NodeProcess : IAsyncDisposable
{
    /// <summary>The network name every runner joins.</summary>
    public const string NetworkName = "atx-multihost";

    /// <summary>The shared secret every runner authenticates with.</summary>
    public const string Secret = "multi-host-s3cret";

    private readonly LineProcess _process;
    private int _nextSeq;

    private NodeProcess(LineProcess process, NamespaceHost host, string name)
    {
        _process = process;
        Host = host;
        Name = name;
    }

    /// <summary>Gets the name used in messages.</summary>
    public string Name { get; }

    /// <summary>Gets the namespace the node runs in.</summary>
    public NamespaceHost Host { get; }

    /// <summary>Gets the node id (string form), from its <c>ready</c> event.</summary>
    public string Id { get; private set; } = string.Empty;

    /// <summary>Gets the port the node listens on.</summary>
    public int Port { get; private set; }

    /// <summary>Gets <c>address:port</c> to pass to other runners as <c>--peer</c>.</summary>
    public string EndPoint => $"{Host.Address}:{Port}";

    /// <summary>Gets a mark for <c>since</c>: waits given it see only events after this moment.</summary>
    public int Mark => _process.LineCount;

    /// <summary>Gets a value indicating whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Gets the path of the runner, built and copied next to the tests by their project reference.</summary>
    public static string RunnerPath { get; } = Path.Combine(AppContext.BaseDirectory, "Ataraxia.Tcp.NodeRunner.dll");

    /// <summary>Gets the dotnet host that runs the tests (the SDK sets DOTNET_HOST_PATH for <c>dotnet test</c>).</summary>
    public static string DotNet { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath) ? hostPath
        : ExternalProgram.FindOnPath("dotnet") ?? "dotnet";

    /// <summary>Starts a runner in <paramref name="host"/>'s namespace, listening on its LAN address, and waits for it to be ready.</summary>
    /// <param name="host">The namespace.</param>
    /// <param name="name">A name for messages.</param>
    /// <param name="arguments">More runner arguments (<c>--peer</c>, <c>--ping-interval</c>, <c>--mdns-interface</c> …).</param>
    public static async Task<NodeProcess> StartAsync(NamespaceHost host, string name, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (!File.Exists(RunnerPath))
        {
            throw new InvalidOperationException($"The node runner is missing at {RunnerPath}; tests/Ataraxia.Tcp.Tests references tests/Ataraxia.Tcp.NodeRunner, so building the tests builds and copies it.");
        }

        string[] all = [RunnerPath, "--name", NetworkName, "--secret", Secret, "--bind", host.Address.ToString(), .. arguments];
        LineProcess process = host.Start(name, DotNet, all, new Dictionary<string, string?>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        });
        var node = new NodeProcess(process, host, name);
        try
        {
            JsonObject ready = await node.WaitForEventAsync(e => Is(e, "ready"));
            node.Id = (string)ready["id"]!;
            node.Port = (int)ready["port"]!;
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>Returns whether an event has the given name.</summary>
    public static bool Is(JsonObject e, string name) => (string?)e["event"] == name;

    /// <summary>Waits for the first event (after <paramref name="since"/>) that matches <paramref name="predicate"/>.</summary>
    public async Task<JsonObject> WaitForEventAsync(Func<JsonObject, bool> predicate, int since = 0, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ProcessLine match = await _process.WaitForLineAsync(
            l => l.Index >= since && !l.IsError && Parse(l.Text) is { } e && predicate(e),
            timeout,
            file,
            line);
        return Parse(match.Text)!;
    }

    /// <summary>Waits until this node reports <paramref name="other"/> available (after <paramref name="since"/>).</summary>
    public Task<JsonObject> WaitForAvailableAsync(NodeProcess other, int since = 0, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(other);
        return WaitForEventAsync(e => Is(e, "available") && (string?)e["id"] == other.Id, since, timeout, file, line);
    }

    /// <summary>Waits until this node reports <paramref name="other"/> unavailable (after <paramref name="since"/>).</summary>
    public Task<JsonObject> WaitForUnavailableAsync(NodeProcess other, int since = 0, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(other);
        return WaitForEventAsync(e => Is(e, "unavailable") && (string?)e["id"] == other.Id, since, timeout, file, line);
    }

    /// <summary>Waits for an application message of <paramref name="type"/> from <paramref name="from"/>.</summary>
    public Task<JsonObject> WaitForMessageAsync(NodeProcess from, string type, int since = 0, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(from);
        return WaitForEventAsync(e => Is(e, "message") && (string?)e["from"] == from.Id && (string?)e["type"] == type, since, timeout, file, line);
    }

    /// <summary>Sends a text message and waits for the first hop's acknowledgement; throws with the error when the send failed.</summary>
    public async Task SendAsync(NodeProcess to, string type, string text, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(to);
        JsonObject reply = await RequestAsync(new JsonObject { ["cmd"] = "send", ["to"] = to.Id, ["type"] = type, ["text"] = text }, ["sent", "send-failed"], file, line);
        if (Is(reply, "send-failed"))
        {
            throw new InvalidOperationException($"{Name} could not send {type} to {to.Name}: {reply["error"]}\n{Transcript()}");
        }
    }

    /// <summary>Gets the ids of the nodes this node lists as available.</summary>
    public async Task<HashSet<string>> NodesAsync()
    {
        JsonObject reply = await RequestAsync(new JsonObject { ["cmd"] = "nodes" }, ["nodes"]);
        return [.. reply["ids"]!.AsArray().Select(id => (string)id!)];
    }

    /// <summary>Leaves the network gracefully (BYE to every peer) and waits for the process to exit with code 0.</summary>
    public async Task LeaveAsync()
    {
        await _process.WriteLineAsync(new JsonObject { ["cmd"] = "leave" }.ToJsonString());
        await WaitForEventAsync(e => Is(e, "left"));
        await _process.WaitForExitAsync();
        Assert.True(_process.ExitCode == 0, $"{Name} exited with code {_process.ExitCode}.\n{Transcript()}");
    }

    /// <summary>Kills the node at once (SIGKILL): no BYE; the kernel closes its sockets.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>Fails if the node logged an error or a fatal problem.</summary>
    public void AssertNoErrors()
    {
        List<string> errors = [.. _process.Lines
            .Select(l => l.IsError ? new JsonObject { ["event"] = "stderr", ["text"] = l.Text } : Parse(l.Text))
            .Where(e => e is not null && (Is(e, "fatal") || Is(e, "stderr") || (Is(e, "log") && (string?)e["level"] is "Error" or "Critical")))
            .Select(e => e!.ToJsonString())];
        Assert.True(errors.Count == 0, $"{Name} reported errors:\n{string.Join('\n', errors)}\n{Transcript()}");
    }

    /// <summary>Formats the node's recent output for failure messages.</summary>
    public string Transcript() => _process.Transcript();

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private async Task<JsonObject> RequestAsync(JsonObject command, string[] replies, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        int seq = Interlocked.Increment(ref _nextSeq);
        command["seq"] = seq;
        Task<JsonObject> reply = WaitForEventAsync(e => (int?)e["seq"] == seq && replies.Contains((string?)e["event"]), 0, null, file, line);
        await _process.WriteLineAsync(command.ToJsonString());
        return await reply;
    }

    private static JsonObject? Parse(string text)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
