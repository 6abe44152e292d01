using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ataraxia.Tcp.Internal;

/// <summary>The certificates a transport presents and how it judges the peer's.</summary>
internal sealed class TlsIdentity : IDisposable
{
    private readonly TcpTlsOptions _options;
    private readonly bool _ephemeral;

    public TlsIdentity(TcpTlsOptions options)
    {
        _options = options;
        _ephemeral = options.Certificate is null;

        // Separate keys for the two roles: a proof computed for one of our accepted connections can then never be
        // valid on one of the connections we open (and the reverse).
        ServerCertificate = options.Certificate ?? CreateEphemeral("ataraxia-server");
        ClientCertificate = options.Certificate ?? CreateEphemeral("ataraxia-client");
    }

    public X509Certificate2 ServerCertificate { get; }

    public X509Certificate2 ClientCertificate { get; }

    /// <summary>The public key bytes (SubjectPublicKeyInfo) that bind authentication to the channel.</summary>
    public static byte[] PublicKeyOf(X509Certificate certificate)
    {
        using var x509 = new X509Certificate2(certificate);
        return x509.PublicKey.ExportSubjectPublicKeyInfo();
    }

    public bool ValidatePeer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return false;
        }

        if (_ephemeral)
        {
            // Any certificate: identity comes from Ataraxia authentication, bound to this certificate's key.
            return true;
        }

        if (_options.ValidatePeerCertificate is { } callback)
        {
            return callback(sender, certificate, chain, errors);
        }

        if (_options.AllowedThumbprints.Count > 0)
        {
            using var x509 = new X509Certificate2(certificate);
            string sha256 = x509.GetCertHashString(HashAlgorithmName.SHA256);
            string sha1 = x509.Thumbprint;
            return _options.AllowedThumbprints.Any(t =>
                string.Equals(t, sha256, StringComparison.OrdinalIgnoreCase) || string.Equals(t, sha1, StringComparison.OrdinalIgnoreCase));
        }

        // Peers are reached by address, so the name in the certificate is not checked; the chain is.
        return (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None;
    }

    public void Dispose()
    {
        if (_ephemeral)
        {
            ServerCertificate.Dispose();
            ClientCertificate.Dispose();
        }
    }

    private static X509Certificate2 CreateEphemeral(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));

        // A round trip through PKCS#12 gives a certificate whose key every platform's TLS stack can use.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
