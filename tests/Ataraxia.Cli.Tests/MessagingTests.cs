using System.Text.Json.Nodes;

namespace Ataraxia.Cli.Tests;

/// <summary>listen, wait and send as separate processes, over TCP (TLS) on 127.0.0.1.</summary>
[Trait("Category", "Integration")]
public sealed class MessagingTests
{
    [Fact]
    public async Task Listen_and_wait_in_two_processes_both_receive_a_message_that_send_broadcasts_over_tcp()
    {
        await using CliProcess listen = CliProcess.Start("listen", ["listen", "--tcp", "0", "--bind", "127.0.0.1", "--json"]);
        (string listenId, int? port) = await listen.WaitReadyAsync();
        string peer = $"127.0.0.1:{port}";
        await using CliProcess wait = CliProcess.Start("wait", ["wait", "greeting", "--peer", peer, "--json", "--timeout", "60s"]);
        (string waitId, _) = await wait.WaitReadyAsync();
        await listen.WaitForEventAsync("node-available", e => (string?)e["id"] == waitId);

        JsonNode payload = JsonNode.Parse("""{"text":"hello","list":[1,2.5,true,null],"nested":{"ok":false}}""")!;
        await using CliProcess send = await CliProcess.RunAsync(
            "send",
            ["send", "--all", "greeting", payload.ToJsonString(), "--expect", "2", "--timeout", "20s", "--peer", peer, "--json"]);

        Assert.True(send.ExitCode == 0, send.Transcript());
        string sendId = (string)send.Events.Single(e => (string?)e["event"] == "ready")["id"]!;
        JsonObject sent = send.Events.Single(e => (string?)e["event"] == "sent");
        Assert.Equal(2, (int)sent["accepted"]!);
        Assert.Equal(new[] { listenId, waitId }.Order(StringComparer.Ordinal), sent["to"]!.AsArray().Select(n => (string)n!).Order(StringComparer.Ordinal));

        JsonObject heard = await listen.WaitForEventAsync("message");
        Assert.Equal(sendId, (string?)heard["source"]);
        Assert.Equal("greeting", (string?)heard["type"]);
        Assert.True(JsonNode.DeepEquals(payload, heard["data"]), heard.ToJsonString());

        await wait.WaitForExitAsync();
        Assert.True(wait.ExitCode == 0, wait.Transcript());
        JsonObject received = wait.Events.Single(e => (string?)e["event"] == "message");
        Assert.Equal(sendId, (string?)received["source"]);
        Assert.True(JsonNode.DeepEquals(payload, received["data"]), received.ToJsonString());

        // Both short-lived nodes left again, and listen saw them go.
        await listen.WaitForEventAsync("node-unavailable", e => (string?)e["id"] == sendId);
        await listen.WaitForEventAsync("node-unavailable", e => (string?)e["id"] == waitId);
        Assert.DoesNotContain(listen.Stderr.Concat(wait.Stderr).Concat(send.Stderr), l => l.StartsWith("error", StringComparison.Ordinal) || l.StartsWith("warn", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Send_to_a_node_id_waits_for_it_and_is_routed_through_the_node_both_are_connected_to()
    {
        await using CliProcess router = CliProcess.Start("router", ["listen", "--tcp", "0", "--bind", "127.0.0.1", "--json"]);
        (_, int? port) = await router.WaitReadyAsync();
        string peer = $"127.0.0.1:{port}";
        await using CliProcess wait = CliProcess.Start("wait", ["wait", "ping", "--peer", peer, "--json", "--timeout", "60s"]);
        (string waitId, _) = await wait.WaitReadyAsync();

        // The start of the id is enough; the sender reaches the target only through the router.
        await using CliProcess send = await CliProcess.RunAsync("send", ["send", waitId[..10], "ping", "[1,2,3]", "--timeout", "20s", "--peer", peer, "--json"]);

        Assert.True(send.ExitCode == 0, send.Transcript());
        Assert.Equal(waitId, (string?)send.Events.Single(e => (string?)e["event"] == "sent")["to"]![0]);
        await wait.WaitForExitAsync();
        Assert.True(wait.ExitCode == 0, wait.Transcript());
        Assert.Equal("[1,2,3]", wait.Events.Single(e => (string?)e["event"] == "message")["data"]!.ToJsonString());
        Assert.DoesNotContain(router.Events, e => (string?)e["event"] == "message");
    }

    [Fact]
    public async Task Nodes_lists_the_direct_peer_and_the_node_behind_it_with_their_routes()
    {
        await using CliProcess router = CliProcess.Start("router", ["listen", "--tcp", "0", "--bind", "127.0.0.1", "--json"]);
        (string routerId, int? port) = await router.WaitReadyAsync();
        string peer = $"127.0.0.1:{port}";
        await using CliProcess behind = CliProcess.Start("behind", ["listen", "--peer", peer, "--json"]);
        (string behindId, _) = await behind.WaitReadyAsync();
        await router.WaitForEventAsync("node-available", e => (string?)e["id"] == behindId);

        await using CliProcess nodes = await CliProcess.RunAsync("nodes", ["nodes", "--peer", peer, "--expect", "2", "--wait", "20s", "--json"]);

        Assert.True(nodes.ExitCode == 0, nodes.Transcript());
        JsonObject[] listed = [.. nodes.Events.Where(e => (string?)e["event"] == "node")];
        Assert.Equal(2, listed.Length);
        JsonObject direct = Assert.Single(listed, e => (string?)e["id"] == routerId);
        Assert.True((bool)direct["direct"]!);
        Assert.Equal(1, (int)direct["hops"]!);
        Assert.Equal("tcp", (string?)direct["transport"]);
        JsonObject routed = Assert.Single(listed, e => (string?)e["id"] == behindId);
        Assert.False((bool)routed["direct"]!);
        Assert.Equal(routerId, (string?)routed["nextHop"]);
        Assert.Equal(2, (int)routed["hops"]!);
        Assert.True((double)routed["latencyMs"]! >= (double)direct["latencyMs"]!, nodes.Transcript());
    }
}
