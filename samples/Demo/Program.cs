// A first look at Ataraxia: three nodes in a line (alice - bob - carol) over the in-memory transport, with
// shared-secret authentication. Alice and Carol are not connected, yet they talk: Bob routes for them.
// Run with: dotnet run --project samples/Demo -c Release
using Ataraxia;
using Ataraxia.Authentication;
using Ataraxia.Cbor;
using Ataraxia.Transport;

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
await using var switchboard = new InMemorySwitchboard();
var auth = new SharedSecretAuth("demo-secret");

InMemoryTransport[] transports = [switchboard.CreateTransport("alice"), switchboard.CreateTransport("bob"), switchboard.CreateTransport("carol")];
string[] names = ["alice", "bob", "carol"];
Network[] nodes = [.. transports.Select(t => new Network(new NetworkOptions { Name = "demo", Transports = [t], Authentication = [auth] }))];
foreach (Network node in nodes)
{
    await node.JoinAsync(timeout.Token);
}

string NameOf(NodeId id) => names[Array.FindIndex(nodes, n => n.Id == id)];
for (int i = 0; i < nodes.Length; i++)
{
    string self = names[i];
    nodes[i].NodeAvailable += (_, e) => Console.WriteLine($"{self,-5} sees {NameOf(e.Node.Id)}");
}

// Only two links: alice-bob and bob-carol.
await switchboard.LinkAsync(transports[0], transports[1], timeout.Token);
await switchboard.LinkAsync(transports[1], transports[2], timeout.Token);
Console.WriteLine("links up: alice - bob - carol (authenticated with a shared secret)");

// Wait until alice has learnt a route to carol through bob.
Node carol = await WaitForNodeAsync(nodes[0], nodes[2].Id, timeout.Token);

var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
nodes[2].MessageReceived += (_, e) => received.TrySetResult(e.Message);
await carol.SendAsync("greeting", new CborMap { ["text"] = "hello from alice", ["hops"] = new CborArray(["alice", "bob", "carol"]) }, timeout.Token);
Message message = await received.Task.WaitAsync(timeout.Token);
Console.WriteLine($"carol received '{message.Type}' from {NameOf(message.Source.Id)}: {message.Data.AsMap()["text"]}");

// Groups: alice and carol join "chat"; bob routes but is not a member.
var aliceChat = new NamedGroup(nodes[0], "chat");
var carolChat = new NamedGroup(nodes[2], "chat");
var carolJoined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
aliceChat.MemberAvailable += (_, _) => carolJoined.TrySetResult();
await aliceChat.JoinAsync(timeout.Token);
await carolChat.JoinAsync(timeout.Token);
await carolJoined.Task.WaitAsync(timeout.Token);

Console.WriteLine($"alice's chat group: {string.Join(", ", aliceChat.Members.Select(m => NameOf(m.Id)))}");
int acknowledged = await aliceChat.BroadcastAsync("chat:message", new CborMap { ["text"] = "hi group" }, timeout.Token);
Console.WriteLine($"group broadcast acknowledged by {acknowledged} member(s)");

foreach (Network node in nodes)
{
    await node.LeaveAsync(timeout.Token);
}

Console.WriteLine("All nodes left. Demo complete.");
return 0;

static async Task<Node> WaitForNodeAsync(Network network, NodeId id, CancellationToken cancellationToken)
{
    var found = new TaskCompletionSource<Node>(TaskCreationOptions.RunContinuationsAsynchronously);
    network.NodeAvailable += (_, e) =>
    {
        if (e.Node.Id == id)
        {
            found.TrySetResult(e.Node);
        }
    };
    if (network.TryGetNode(id, out Node? node))
    {
        return node;
    }

    return await found.Task.WaitAsync(cancellationToken);
}
