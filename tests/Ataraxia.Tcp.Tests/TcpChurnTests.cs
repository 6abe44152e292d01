using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ataraxia.Authentication;
using Ataraxia.Protocol;
using Ataraxia.Testing;
using Xunit.Abstractions;

// The churn client accepts the node's ephemeral certificate, as every Ataraxia node does: identity comes from
// the shared-secret proof, bound to that certificate's key.
#pragma warning disable CA5359

namespace Ataraxia.Tcp.Tests;

/// <summary>Runs alone: it counts the process's open sockets, which other tests would disturb.</summary>
[CollectionDefinition(nameof(TcpChurnTests), DisableParallelization = true)]
public sealed class RunsAlone;

[Trait("Category", "Integration")]
[Collection(nameof(TcpChurnTests))]
public sealed class TcpChurnTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Five_hundred_connect_disconnect_cycles_leave_no_sockets_or_memory_behind()
    {
        const int cycles = 500;
        await using TcpTestNode server = await TcpTestNode.StartAsync();
        using X509Certificate2 clientCertificate = CreateCertificate();
        var sessionOptions = new PeerSessionOptions
        {
            AuthProviders = [new SharedSecretAuth("s3cret")],
            CloseTimeout = TimeSpan.FromSeconds(2),
        };

        // Warm up once so that first-use costs (JIT, TLS libraries) are not counted as growth.
        await CycleAsync(server.Port, sessionOptions, clientCertificate);
        await TaskTimeoutExtensions.WaitUntilAsync(() => server.Transport.ConnectionCount == 0 && server.Network.Nodes.Count == 0);
        int socketsBefore = OpenSockets();
        long memoryBefore = CollectedMemory();
        var watch = Stopwatch.StartNew();

        for (int i = 0; i < cycles; i++)
        {
            await CycleAsync(server.Port, sessionOptions, clientCertificate);
        }

        TimeSpan elapsed = watch.Elapsed;
        await TaskTimeoutExtensions.WaitUntilAsync(() => server.Transport.ConnectionCount == 0 && server.Network.Nodes.Count == 0);
        int socketsAfter = OpenSockets();
        long memoryAfter = CollectedMemory();
        output.WriteLine($"{cycles} TLS + shared-secret cycles in {elapsed.TotalSeconds:F1} s ({elapsed.TotalMilliseconds / cycles:F1} ms each)");
        output.WriteLine($"open sockets: {socketsBefore} before, {socketsAfter} after");
        output.WriteLine($"managed memory after full GC: {memoryBefore / 1024} KiB before, {memoryAfter / 1024} KiB after");

        Assert.Equal(0, server.Transport.ConnectionCount);
        Assert.InRange(socketsAfter, 0, socketsBefore + 4);
        Assert.InRange(memoryAfter, 0, memoryBefore + (8 * 1024 * 1024));
        await TcpTransportTests.AssertDeliveredAsync(await StartClientAsync(server), server);
    }

    private static async Task<TcpTestNode> StartClientAsync(TcpTestNode server)
    {
        TcpTestNode client = await TcpTestNode.StartAsync(peers: server.EndPoint);
        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server));
        return client;
    }

    // One client connection: TCP, TLS, Ataraxia negotiation with the shared secret, then a graceful close.
    private static async Task CycleAsync(int port, PeerSessionOptions options, X509Certificate2 certificate)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "ataraxia",
            ClientCertificates = [certificate],
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        var pipe = new StreamPipe(ssl);

        // Proofs are bound to the certificates' public keys (as TcpTransport does).
        var security = new PeerChannelSecurity(
            certificate.PublicKey.ExportSubjectPublicKeyInfo(),
            X509CertificateLoader.LoadCertificate(ssl.RemoteCertificate!.GetRawCertData()).PublicKey.ExportSubjectPublicKeyInfo());
        await using var session = new PeerSession(pipe, PeerRole.Client, NodeId.NewId(), options, security);
        session.Start();
        await session.WaitForActiveAsync().DefaultTimeout();
        await session.CloseAsync().DefaultTimeout();
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=churn", key, HashAlgorithmName.SHA256);
        using X509Certificate2 created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    private static int OpenSockets()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        return Directory.EnumerateFiles("/proc/self/fd").Count(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true;
            }
            catch (IOException)
            {
                return false;
            }
        });
    }

    private static long CollectedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private sealed class StreamPipe(Stream stream) : IDuplexPipe
    {
        public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));

        public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }
}
