// A first look at Ataraxia: two nodes connect over an in-memory pipe, authenticate each other with a shared
// secret, and exchange the mesh's first messages. Run with: dotnet run --project samples/Demo
using Ataraxia;
using Ataraxia.Authentication;
using Ataraxia.Protocol;

var options = new PeerSessionOptions
{
    AuthProviders = [new SharedSecretAuth("demo-secret")],
};

NodeId serverId = NodeId.NewId();
NodeId clientId = NodeId.NewId();
(DuplexPipe serverEnd, DuplexPipe clientEnd) = DuplexPipe.CreatePair();

await using var server = new PeerSession(serverEnd, PeerRole.Server, serverId, options, connectionName: "server");
await using var client = new PeerSession(clientEnd, PeerRole.Client, clientId, options, connectionName: "client");
server.Start();
client.Start();

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
NodeId seenByServer = await server.WaitForActiveAsync(timeout.Token);
NodeId seenByClient = await client.WaitForActiveAsync(timeout.Token);

Console.WriteLine($"server {serverId} authenticated client {seenByServer} with {server.AuthenticationMethod}");
Console.WriteLine($"client {clientId} authenticated server {seenByClient} with {client.AuthenticationMethod}");

// The client announces its topology; the server receives it on its Incoming channel.
await client.SendAsync(new PeerNodeSummary(1, []), timeout.Token);
PeerMessage received = await server.Incoming.ReadAsync(timeout.Token);
Console.WriteLine($"server received {received.Type} from {seenByServer}");

await client.CloseAsync(timeout.Token);
Console.WriteLine($"client closed: {client.DisconnectReason}; server saw: {await server.Completion.WaitAsync(timeout.Token)}");
Console.WriteLine(seenByServer == clientId && seenByClient == serverId ? "Both sessions authenticated." : "Identity mismatch!");
return seenByServer == clientId && seenByClient == serverId ? 0 : 1;
