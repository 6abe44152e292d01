using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests;

[Trait("Category", "Integration")]
public sealed class TcpCertificateTests
{
    [Fact]
    public async Task With_own_certificates_only_pinned_peers_are_accepted()
    {
        using X509Certificate2 first = CreateCertificate("first");
        using X509Certificate2 second = CreateCertificate("second");
        using X509Certificate2 stranger = CreateCertificate("stranger");
        string[] pinned = [Thumbprint(first), Thumbprint(second)];
        TcpTransportOptions Pin(TcpTransportOptions o, X509Certificate2 certificate) =>
            o with { Tls = new TcpTlsOptions { Certificate = certificate, AllowedThumbprints = pinned } };

        await using TcpTestNode server = await TcpTestNode.StartAsync(configure: o => Pin(o, first));
        await using TcpTestNode client = await TcpTestNode.StartAsync(configure: o => Pin(o, second), peers: server.EndPoint);
        await using TcpTestNode outsider = await TcpTestNode.StartAsync(configure: o => Pin(o, stranger), peers: server.EndPoint);

        await TaskTimeoutExtensions.WaitUntilAsync(() => client.Sees(server) && server.Sees(client));

        // The outsider knows the secret but its certificate is not pinned: the TLS handshake fails every time.
        await TaskTimeoutExtensions.WaitUntilAsync(() => outsider.Logs.Entries.Count(e => e.EventId.Id == 103) >= 2);
        Assert.False(server.Sees(outsider));
        Assert.False(outsider.Sees(server));
    }

    private static string Thumbprint(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    private static X509Certificate2 CreateCertificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        using X509Certificate2 created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
