using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ataraxia.Protocol;
using Ataraxia.Tcp;
using Ataraxia.Testing;
using Microsoft.AspNetCore.Hosting;

namespace Ataraxia.WebSockets.Tests;

[Trait("Category", "Integration")]
public sealed class WebSocketTransportTests
{
    [Fact]
    public async Task Client_and_standalone_server_exchange_messages_both_ways()
    {
        (TestNode serverNode, WebSocketServerTransport server) = await TestNode.StartServerAsync();
        await using TestNode serverScope = serverNode;
        (TestNode client, _) = await TestNode.StartClientAsync(server.Url!);
        await using TestNode clientScope = client;

        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(serverNode) && serverNode.Sees(client));
        await TestNode.AssertDeliveredAsync(client.Network, serverNode.Network);
        await TestNode.AssertDeliveredAsync(serverNode.Network, client.Network);
        Assert.True(server.Port > 0);
        Assert.Equal(new Uri($"ws://127.0.0.1:{server.Port}/mesh"), server.Url);
        Assert.Equal(1, server.ConnectionCount);
    }

    [Fact]
    public async Task Client_and_aspnet_server_exchange_messages_both_ways()
    {
        await using AspNetTestServer server = await AspNetTestServer.StartAsync();
        (TestNode client, WebSocketClientTransport transport) = await TestNode.StartClientAsync(server.MeshUrl);
        await using TestNode clientScope = client;

        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server.Id) && server.Network.TryGetNode(client.Id, out _));
        await TestNode.AssertDeliveredAsync(client.Network, server.Network);
        await TestNode.AssertDeliveredAsync(server.Network, client.Network);
        Assert.True(server.Network.IsJoined);
        Assert.Equal(1, server.Endpoint.ConnectionCount);
        Assert.Equal(1, transport.ConnectionCount);
    }

    [Fact]
    public async Task Mixed_mesh_routes_between_a_tcp_node_and_a_websocket_client_through_the_server()
    {
        // TCP node <-TCP-> ASP.NET server (TCP transport + WebSocket endpoint) <-WS-> WebSocket client node.
        await using var serverTcp = new TcpTransport(TestNode.TcpOptions());
        await using AspNetTestServer server = await AspNetTestServer.StartAsync(network: o => o with { Transports = [serverTcp] });
        (TestNode tcpNode, TcpTransport tcp) = await TestNode.StartTcpAsync(peers: new DnsEndPoint("127.0.0.1", serverTcp.Port));
        await using TestNode tcpScope = tcpNode;
        (TestNode wsNode, WebSocketClientTransport ws) = await TestNode.StartClientAsync(server.MeshUrl);
        await using TestNode wsScope = wsNode;

        await TaskTimeoutExtensions.WaitUntilAsync(() => tcpNode.Sees(wsNode) && wsNode.Sees(tcpNode));
        await TestNode.AssertDeliveredAsync(tcpNode.Network, wsNode.Network);
        await TestNode.AssertDeliveredAsync(wsNode.Network, tcpNode.Network);

        // Neither end has a direct link to the other: everything went through the server.
        Assert.Equal(1, tcp.ConnectionCount);
        Assert.Equal(1, ws.ConnectionCount);
        Assert.Equal(1, server.Endpoint.ConnectionCount);
    }

    [Fact]
    public async Task Client_reconnects_when_the_server_restarts()
    {
        (TestNode first, WebSocketServerTransport firstServer) = await TestNode.StartServerAsync();
        int port = firstServer.Port;
        (TestNode client, _) = await TestNode.StartClientAsync(firstServer.Url!);
        await using TestNode clientScope = client;
        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(first));

        await first.DisposeAsync();
        await TaskTimeoutExtensions.WaitUntilAsync(() => !client.Sees(first));

        // The client keeps dialling (connection refused, with back-off) until the port answers again.
        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Logs.Entries.Count(e => e.EventId.Id == 308) >= 2);
        (TestNode second, _) = await TestNode.StartServerAsync(port: port);
        await using TestNode secondScope = second;

        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(second) && second.Sees(client));
        await TestNode.AssertDeliveredAsync(client.Network, second.Network);
        await TestNode.AssertDeliveredAsync(second.Network, client.Network);
    }

    [Fact]
    public async Task A_disallowed_origin_is_refused_with_403_before_the_upgrade()
    {
        await using AspNetTestServer server = await AspNetTestServer.StartAsync(
            endpoint: o => o with { AllowedOrigins = ["https://good.example"] });

        (RawWebSocket? refused, int status) = await RawWebSocket.TryConnectAsync(server.MeshUrl, new Dictionary<string, string> { ["Origin"] = "https://evil.example" });
        Assert.Null(refused);
        Assert.Equal(403, status);
        Assert.Equal(0, server.Endpoint.ConnectionCount);
        Assert.Contains(server.Logs.Entries, e => e.EventId.Id == 302);

        // An allowed origin (any case, trailing slash) is upgraded, and the server starts negotiating at once.
        await using RawWebSocket allowed = await RawWebSocket.ConnectAsync(server.MeshUrl, new Dictionary<string, string> { ["Origin"] = "HTTPS://good.example/" });
        PeerMessage hello = await allowed.ReceivePeerMessageAsync();
        Assert.Equal(PeerMessageType.Hello, hello.Type);

        // Clients that are not browsers send no origin and are not affected.
        (TestNode client, _) = await TestNode.StartClientAsync(server.MeshUrl);
        await using TestNode clientScope = client;
        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server.Id));
    }

    [Fact]
    public async Task The_authorization_hook_refuses_with_401_or_403_before_the_upgrade()
    {
        int calls = 0;
        await using AspNetTestServer server = await AspNetTestServer.StartAsync(endpoint: o => o with
        {
            Authorize = context =>
            {
                Interlocked.Increment(ref calls);
                string? authorization = context.Request.Headers.Authorization;
                if (authorization is null)
                {
                    context.Response.StatusCode = 401;
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    return ValueTask.FromResult(false);
                }

                return ValueTask.FromResult(authorization == "Bearer good-token");
            },
        });

        (RawWebSocket? anonymous, int missing) = await RawWebSocket.TryConnectAsync(server.MeshUrl);
        (RawWebSocket? wrong, int bad) = await RawWebSocket.TryConnectAsync(server.MeshUrl, new Dictionary<string, string> { ["Authorization"] = "Bearer bad-token" });
        Assert.Null(anonymous);
        Assert.Null(wrong);
        Assert.Equal(401, missing);
        Assert.Equal(403, bad);
        Assert.Equal(0, server.Endpoint.ConnectionCount);
        Assert.Equal(2, server.Logs.Entries.Count(e => e.EventId.Id == 303));

        // The client transport sends the token with every upgrade request.
        (TestNode client, _) = await TestNode.StartClientAsync(
            server.MeshUrl,
            configure: o => o with { RequestHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer good-token" } });
        await using TestNode clientScope = client;
        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server.Id));

        // One with a bad token keeps being refused, says why once, and never gets a session.
        (TestNode refused, _) = await TestNode.StartClientAsync(
            server.MeshUrl,
            configure: o => o with { RequestHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer bad-token" } });
        await using TestNode refusedScope = refused;
        await TaskTimeoutExtensions.WaitUntilAsync(() => refused.Logs.Entries.Count(e => e.EventId.Id is 309 or 314) >= 3);
        Assert.Single(refused.Logs.Entries, e => e.EventId.Id == 309);
        Assert.Empty(refused.Network.Nodes);
        Assert.Equal(1, server.Endpoint.ConnectionCount);
        Assert.True(Volatile.Read(ref calls) >= 6);
    }

    [Fact]
    public async Task A_message_over_the_limit_closes_only_that_connection_with_1009()
    {
        (TestNode serverNode, WebSocketServerTransport server) = await TestNode.StartServerAsync(endpoint: o => o with { MaxMessageSize = 1024 });
        await using TestNode serverScope = serverNode;
        (TestNode client, _) = await TestNode.StartClientAsync(server.Url!);
        await using TestNode clientScope = client;
        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(serverNode) && serverNode.Sees(client));

        await using RawWebSocket raw = await RawWebSocket.ConnectAsync(server.Url!);
        Assert.Equal(PeerMessageType.Hello, (await raw.ReceivePeerMessageAsync()).Type);
        await raw.SendAsync(new byte[1025]);

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await raw.ReceiveCloseAsync());
        Assert.Contains(serverNode.Logs.Entries, e => e.EventId.Id == 304 && e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        await TaskTimeoutExtensions.WaitUntilAsync(() => server.ConnectionCount == 1);

        // The other connection is untouched, and messages up to the limit still pass.
        await TestNode.AssertDeliveredAsync(client.Network, serverNode.Network);
        await TestNode.AssertDeliveredAsync(serverNode.Network, client.Network);
    }

    [Fact]
    public async Task Shared_secret_authentication_succeeds_over_websockets()
    {
        await using AspNetTestServer server = await AspNetTestServer.StartAsync(secret: "correct horse");
        (TestNode client, _) = await TestNode.StartClientAsync(server.MeshUrl, secret: "correct horse");
        await using TestNode clientScope = client;

        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server.Id) && server.Network.TryGetNode(client.Id, out _));
        await TestNode.AssertDeliveredAsync(client.Network, server.Network);
        Assert.DoesNotContain(client.Logs.Entries, e => e.EventId.Id == 307);
    }

    [Fact]
    public async Task A_wrong_shared_secret_is_rejected_over_websockets()
    {
        await using AspNetTestServer server = await AspNetTestServer.StartAsync(secret: "correct horse");
        (TestNode client, _) = await TestNode.StartClientAsync(server.MeshUrl, secret: "wrong horse");
        await using TestNode clientScope = client;

        // Retried with back-off and reported once on the client; on the server the sessions end unauthenticated.
        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Logs.Entries.Count(e => e.EventId.Id == 308) >= 2);
        Assert.Single(client.Logs.Entries, e => e.EventId.Id == 307);
        Assert.Contains(server.Logs.Entries, e => e.EventId.Id == 3 && e.Message.Contains(nameof(PeerDisconnectReason.AuthenticationFailed), StringComparison.Ordinal));
        Assert.Empty(client.Network.Nodes);
        Assert.Empty(server.Network.Nodes);
    }

    [Fact]
    public async Task A_transport_can_override_the_networks_authentication()
    {
        await using AspNetTestServer server = await AspNetTestServer.StartAsync(secret: "per-transport");
        (TestNode client, _) = await TestNode.StartClientAsync(
            server.MeshUrl,
            secret: "network-secret",
            configure: o => o with { Authentication = TestNode.AuthFor("per-transport") });
        await using TestNode clientScope = client;

        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server.Id));
    }

    [Fact]
    public async Task Requests_that_are_not_websocket_upgrades_get_400()
    {
        await using AspNetTestServer server = await AspNetTestServer.StartAsync();
        using var http = new HttpClient();

        using HttpResponseMessage response = await http.GetAsync(server.HttpUrl("/mesh")).DefaultTimeout();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, server.Endpoint.ConnectionCount);
    }

    [Fact]
    public async Task The_standalone_server_answers_other_paths_with_404()
    {
        (TestNode serverNode, WebSocketServerTransport server) = await TestNode.StartServerAsync();
        await using TestNode serverScope = serverNode;
        using var http = new HttpClient();

        using HttpResponseMessage other = await http.GetAsync(new Uri($"http://127.0.0.1:{server.Port}/other")).DefaultTimeout();
        using HttpResponseMessage plain = await http.GetAsync(new Uri($"http://127.0.0.1:{server.Port}/mesh")).DefaultTimeout();

        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
    }

    [Fact]
    public async Task Each_peer_message_is_one_binary_message_and_text_and_unknown_tags_are_ignored()
    {
        (TestNode serverNode, WebSocketServerTransport server) = await TestNode.StartServerAsync(secret: null);
        await using TestNode serverScope = serverNode;
        await using RawWebSocket raw = await RawWebSocket.ConnectAsync(server.Url!);
        NodeId rawId = NodeId.NewId();

        // The server speaks first (WIRE.md §4.4), each message without a length prefix.
        PeerIdentify hello = Assert.IsType<PeerIdentify>(await raw.ReceivePeerMessageAsync());
        Assert.Equal(PeerMessageType.Hello, hello.Type);
        Assert.Equal(serverNode.Id, hello.Id);

        await raw.SendAsync("ignored"u8.ToArray(), WebSocketMessageType.Text);
        await raw.SendAsync([0x18, 0xc8]); // tag 200: unknown, ignored on WebSockets
        await raw.SendAsync(new PeerIdentify(PeerMessageType.Select, rawId));
        Assert.Equal(PeerMessageType.Ok, (await raw.ReceivePeerMessageAsync()).Type);
        await raw.SendAsync(new PeerAuth("anonymous", ReadOnlyMemory<byte>.Empty));
        Assert.Equal(PeerMessageType.Ok, (await raw.ReceivePeerMessageAsync()).Type);
        await raw.SendAsync(PeerSignal.Begin);

        await TaskTimeoutExtensions.WaitUntilAsync(() => serverNode.Sees(rawId));
        await raw.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).DefaultTimeout();

        // The server ends the session without BYE: the next thing after the close is its close frame.
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await raw.ReceiveCloseAsync());
        await TaskTimeoutExtensions.WaitUntilAsync(() => !serverNode.Sees(rawId) && server.ConnectionCount == 0);
    }

    [Fact]
    public async Task Wss_with_a_server_certificate_and_a_validation_callback()
    {
        using X509Certificate2 certificate = CreateCertificate();
        var server = new WebSocketServerTransport(new WebSocketServerTransportOptions
        {
            Address = IPAddress.Loopback,
            Path = "/mesh",
            Certificate = certificate,
        });
        await using TestNode serverNode = await TestNode.StartAsync(TestNode.Secret, server);
        Assert.Equal(Uri.UriSchemeWss, server.Url!.Scheme);

        string thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        (TestNode client, _) = await TestNode.StartClientAsync(
            server.Url,
            configure: o => o with { RemoteCertificateValidation = (_, presented, _, _) => presented?.GetCertHashString(HashAlgorithmName.SHA256) == thumbprint });
        await using TestNode clientScope = client;
        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(serverNode) && serverNode.Sees(client));
        await TestNode.AssertDeliveredAsync(client.Network, serverNode.Network);

        // Without the callback the self-signed certificate is not trusted: the client never gets in.
        (TestNode untrusting, _) = await TestNode.StartClientAsync(server.Url);
        await using TestNode untrustingScope = untrusting;
        await TaskTimeoutExtensions.WaitUntilAsync(() => untrusting.Logs.Entries.Count(e => e.EventId.Id == 306) >= 2);
        Assert.Empty(untrusting.Network.Nodes);
    }

    [Fact]
    public async Task Stopping_the_aspnet_application_closes_websocket_sessions_promptly()
    {
        AspNetTestServer server = await AspNetTestServer.StartAsync();
        try
        {
            (TestNode client, _) = await TestNode.StartClientAsync(server.MeshUrl);
            await using TestNode clientScope = client;
            await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server.Id));

            // The network leaves as the host begins to stop, so Kestrel does not wait out its shutdown timeout
            // for WebSocket requests that would otherwise last as long as their sessions.
            Network network = server.Network;
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            await server.DisposeAsync();
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"Stopping took {stopping.Elapsed}.");
            Assert.False(network.IsJoined);
            await TaskTimeoutExtensions.WaitUntilAsync(() => !client.Sees(network.Id));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Client_certificates_reach_the_authorization_hook_over_wss()
    {
        using X509Certificate2 serverCertificate = CreateCertificate();
        using X509Certificate2 clientCertificate = CreateCertificate("CN=ataraxia-client", clientAuthentication: true);
        string expected = clientCertificate.GetCertHashString(HashAlgorithmName.SHA256);
        await using AspNetTestServer server = await AspNetTestServer.StartAsync(
            endpoint: o => o with
            {
                Authorize = context => ValueTask.FromResult(context.Connection.ClientCertificate?.GetCertHashString(HashAlgorithmName.SHA256) == expected),
            },
            https: listen => listen.UseHttps(new Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions
            {
                ServerCertificate = serverCertificate,
                ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate,
                ClientCertificateValidation = (_, _, _) => true, // the hook decides
            }));
        string serverThumbprint = serverCertificate.GetCertHashString(HashAlgorithmName.SHA256);
        WebSocketClientTransportOptions Trusting(WebSocketClientTransportOptions o) => o with
        {
            RemoteCertificateValidation = (_, presented, _, _) => presented?.GetCertHashString(HashAlgorithmName.SHA256) == serverThumbprint,
        };

        (TestNode withCertificate, _) = await TestNode.StartClientAsync(server.MeshUrl, configure: o => Trusting(o) with { ClientCertificates = [clientCertificate] });
        await using TestNode withScope = withCertificate;
        await TaskTimeoutExtensions.WaitUntilAsync(() => withCertificate.Sees(server.Id));

        (TestNode without, _) = await TestNode.StartClientAsync(server.MeshUrl, configure: Trusting);
        await using TestNode withoutScope = without;
        await TaskTimeoutExtensions.WaitUntilAsync(() => without.Logs.Entries.Any(e => e.EventId.Id == 309 && e.Message.Contains("403", StringComparison.Ordinal)));
        Assert.Empty(without.Network.Nodes);
        Assert.Equal(1, server.Endpoint.ConnectionCount);
    }

    private static X509Certificate2 CreateCertificate(string subject = "CN=localhost", bool clientAuthentication = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        Oid usage = clientAuthentication ? new Oid("1.3.6.1.5.5.7.3.2") : new Oid("1.3.6.1.5.5.7.3.1");
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], critical: false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
    }
}
