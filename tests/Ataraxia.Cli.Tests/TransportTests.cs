using System.Text.Json.Nodes;

namespace Ataraxia.Cli.Tests;

/// <summary>The transports besides TCP, as separate processes: a WebSocket server and client on 127.0.0.1, and the machine-local default.</summary>
[Trait("Category", "Integration")]
public sealed class TransportTests
{
    [Fact]
    public async Task Wait_with_a_websocket_server_receives_what_send_broadcasts_as_its_client()
    {
        await using CliProcess wait = CliProcess.Start("wait", ["wait", "greeting", "--ws-listen", "ws://127.0.0.1:0/mesh", "--json", "--timeout", "60s"]);
        (string waitId, string url) = await WaitReadyWithWebSocketAsync(wait);

        JsonNode payload = JsonNode.Parse("""{"text":"hello","list":[1,2.5,true,null],"nested":{"ok":false}}""")!;
        await using CliProcess send = await CliProcess.RunAsync(
            "send",
            ["send", "--all", "greeting", payload.ToJsonString(), "--timeout", "20s", "--ws-connect", url, "--json"]);

        Assert.True(send.ExitCode == 0, send.Transcript());
        JsonObject ready = send.Events.Single(e => (string?)e["event"] == "ready");
        string sendId = (string)ready["id"]!;
        Assert.False((bool)ready["local"]!, send.Transcript());
        Assert.True((bool)ready["endpoint"]!, send.Transcript());
        JsonObject sent = send.Events.Single(e => (string?)e["event"] == "sent");
        Assert.Equal(1, (int)sent["accepted"]!);
        Assert.Equal([waitId], sent["to"]!.AsArray().Select(n => (string)n!));

        await wait.WaitForExitAsync();
        Assert.True(wait.ExitCode == 0, wait.Transcript());
        JsonObject received = Assert.Single(wait.Events, e => (string?)e["event"] == "message");
        Assert.Equal(sendId, (string?)received["source"]);
        Assert.Equal("greeting", (string?)received["type"]);
        Assert.True(JsonNode.DeepEquals(payload, received["data"]), received.ToJsonString());
        Assert.DoesNotContain(wait.Stderr.Concat(send.Stderr), l => l.StartsWith("error", StringComparison.Ordinal) || l.StartsWith("warn", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Nodes_over_a_websocket_lists_the_server_node_as_a_direct_peer()
    {
        await using CliProcess listen = CliProcess.Start("listen", ["listen", "--ws-listen", "ws://127.0.0.1:0/mesh", "--json"]);
        (string listenId, string url) = await WaitReadyWithWebSocketAsync(listen);

        await using CliProcess nodes = await CliProcess.RunAsync("nodes", ["nodes", "--ws-connect", url, "--expect", "1", "--wait", "20s", "--json"]);

        Assert.True(nodes.ExitCode == 0, nodes.Transcript());
        JsonObject listed = Assert.Single(nodes.Events, e => (string?)e["event"] == "node");
        Assert.Equal(listenId, (string?)listed["id"]);
        Assert.True((bool)listed["direct"]!, nodes.Transcript());
        Assert.Equal(listenId, (string?)listed["nextHop"]);
        Assert.Equal(1, (int)listed["hops"]!);
        Assert.Equal("ws", (string?)listed["transport"]);
        Assert.True((double)listed["latencyMs"]! >= 0, nodes.Transcript());

        // The listening side saw the client join.
        string nodesId = (string)nodes.Events.Single(e => (string?)e["event"] == "ready")["id"]!;
        await listen.WaitForEventAsync("node-available", e => (string?)e["id"] == nodesId);
    }

    [Fact]
    public async Task Without_a_transport_option_wait_and_send_meet_on_the_machine_local_transport_of_their_network()
    {
        // The machine-local transport meets at a socket named after the network in the temp directory: a name of its
        // own keeps this test apart from other runs (and from a real `ataraxia` on this machine).
        string network = $"ataraxia-cli-test-{Guid.NewGuid():N}"[..30];
        try
        {
            await using CliProcess wait = CliProcess.Start("wait", ["wait", "local-ping", "--network", network, "--json", "--timeout", "60s"]);
            JsonObject waitReady = await wait.WaitForEventAsync("ready");
            Assert.Equal(network, (string?)waitReady["network"]);
            Assert.True((bool)waitReady["local"]!, wait.Transcript());
            Assert.Null(waitReady["tcpPort"]);
            Assert.Null(waitReady["webSocketUrl"]);

            await using CliProcess send = await CliProcess.RunAsync(
                "send",
                ["send", "--all", "local-ping", """{"n":1}""", "--network", network, "--timeout", "20s", "--json"]);

            Assert.True(send.ExitCode == 0, send.Transcript());
            JsonObject sendReady = send.Events.Single(e => (string?)e["event"] == "ready");
            Assert.True((bool)sendReady["local"]!, send.Transcript());
            Assert.Equal([(string)waitReady["id"]!], send.Events.Single(e => (string?)e["event"] == "sent")["to"]!.AsArray().Select(n => (string)n!));

            await wait.WaitForExitAsync();
            Assert.True(wait.ExitCode == 0, wait.Transcript());
            JsonObject received = Assert.Single(wait.Events, e => (string?)e["event"] == "message");
            Assert.Equal((string?)sendReady["id"], (string?)received["source"]);
            Assert.Equal("""{"n":1}""", received["data"]!.ToJsonString());
        }
        finally
        {
            // The leader removes its socket when it leaves; the lock file beside it stays.
            foreach (string path in new[] { Path.Combine(Path.GetTempPath(), network), Path.Combine(Path.GetTempPath(), network + ".leader") })
            {
                try
                {
                    File.Delete(path);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    /// <summary>Waits for the <c>ready</c> event of a node that runs a WebSocket server; returns its id and the URL it serves.</summary>
    private static async Task<(string Id, string Url)> WaitReadyWithWebSocketAsync(CliProcess process)
    {
        JsonObject ready = await process.WaitForEventAsync("ready");
        string? url = (string?)ready["webSocketUrl"];
        Assert.True(url is not null, process.Transcript());
        var parsed = new Uri(url);
        Assert.Equal("ws", parsed.Scheme);
        Assert.Equal("127.0.0.1", parsed.Host);
        Assert.NotEqual(0, parsed.Port);
        Assert.Equal("/mesh", parsed.AbsolutePath);
        return ((string)ready["id"]!, url);
    }
}
