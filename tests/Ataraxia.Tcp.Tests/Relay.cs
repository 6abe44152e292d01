using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

// The relay plays an attacker: it accepts any certificate on purpose.
#pragma warning disable CA5359

namespace Ataraxia.Tcp.Tests;

/// <summary>
/// A man in the middle for tests: accepts connections and forwards them to a target. With TLS it terminates TLS
/// with its own certificate on both sides and relays the plaintext, which is exactly what channel binding defeats.
/// </summary>
internal sealed class Relay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly bool _tls;
    private readonly X509Certificate2 _certificate;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _relayed;

    public Relay(int targetPort, bool tls)
    {
        _target = new IPEndPoint(IPAddress.Loopback, targetPort);
        _tls = tls;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=relay", key, HashAlgorithmName.SHA256);
        using X509Certificate2 created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        _certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Gets the number of connections relayed so far.</summary>
    public int Relayed => Volatile.Read(ref _relayed);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _certificate.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient incoming;
            try
            {
                incoming = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => RelayAsync(incoming));
        }
    }

    private async Task RelayAsync(TcpClient incoming)
    {
        using (incoming)
        using (var outgoing = new TcpClient())
        {
            try
            {
                await outgoing.ConnectAsync(_target, _stop.Token);
                Stream inner = incoming.GetStream();
                Stream outer = outgoing.GetStream();
                if (_tls)
                {
                    var server = new SslStream(inner, false);
                    await server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                    {
                        ServerCertificate = _certificate,
                        ClientCertificateRequired = true,
                        RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    }, _stop.Token);
                    var client = new SslStream(outer, false);
                    await client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                    {
                        TargetHost = "relay",
                        ClientCertificates = [_certificate],
                        RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    }, _stop.Token);
                    inner = server;
                    outer = client;
                }

                Interlocked.Increment(ref _relayed);
                Task up = inner.CopyToAsync(outer, _stop.Token);
                Task down = outer.CopyToAsync(inner, _stop.Token);
                await Task.WhenAny(up, down);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
            {
                // A relay that fails simply drops the connection.
            }
        }
    }
}
