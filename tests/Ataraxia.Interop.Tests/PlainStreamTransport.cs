using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Ataraxia.Protocol;
using Ataraxia.Transport;

namespace Ataraxia.Interop.Tests;

/// <summary>The outcome of one connection: the authenticated peer, or why negotiation failed.</summary>
public sealed record PlainConnectionResult(PeerSession Session, NodeId? RemoteId, Exception? Error);

/// <summary>
/// A test transport: plain TCP on the loopback address with the stream framing of WIRE.md §4.1 and no
/// encryption, as ataraxia-local uses (§4.3). It either listens on an OS-assigned port or connects once to a
/// given port; it never reconnects.
/// </summary>
public sealed class PlainStreamTransport : ITransport, IAsyncDisposable
{
    private readonly IPEndPoint? _connectTo;
    private readonly Channel<PlainConnectionResult> _results = Channel.CreateUnbounded<PlainConnectionResult>();
    private readonly ConcurrentDictionary<SocketDuplexPipe, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private TcpListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private ITransportHost? _host;

    private PlainStreamTransport(IPEndPoint? connectTo)
    {
        _connectTo = connectTo;
    }

    public string Name => "plain-tcp";

    /// <summary>Gets the port listened on, once started (listening transports only).</summary>
    public int Port => ((IPEndPoint?)_listener?.LocalEndpoint)?.Port ?? throw new InvalidOperationException("The transport does not listen.");

    /// <summary>Gets the outcome of every connection, in the order negotiations ended.</summary>
    public ChannelReader<PlainConnectionResult> Connections => _results.Reader;

    /// <summary>Creates a transport that accepts connections on 127.0.0.1 and an OS-assigned port.</summary>
    public static PlainStreamTransport Listening() => new(connectTo: null);

    /// <summary>Creates a transport that opens one connection to 127.0.0.1:<paramref name="port"/> when started.</summary>
    public static PlainStreamTransport ConnectingTo(int port) => new(new IPEndPoint(IPAddress.Loopback, port));

    public async ValueTask StartAsync(ITransportHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (_host is not null)
        {
            throw new InvalidOperationException("The transport is already started.");
        }

        _host = host;
        if (_connectTo is null)
        {
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _acceptLoop = AcceptLoopAsync(_listener);
            return;
        }

        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(_connectTo, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        Run(socket, PeerRole.Client);
    }

    /// <summary>Stops accepting. Sessions stay up: the network closes them (with BYE) after stopping its transports.</summary>
    public async ValueTask StopAsync(CancellationToken cancellationToken = default)
    {
        _listener?.Stop();
        await _acceptLoop.WaitAsync(cancellationToken);
    }

    /// <summary>Stops, ends the negotiations still running and closes every socket that is still open.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _stopping.CancelAsync();
        foreach (SocketDuplexPipe pipe in _connections.Keys)
        {
            pipe.Dispose();
        }

        await Task.WhenAll(_connections.Values);
        _results.Writer.TryComplete();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return; // stopped
            }

            Run(socket, PeerRole.Server);
        }
    }

    private void Run(Socket socket, PeerRole role)
    {
        socket.NoDelay = true;
        var pipe = new SocketDuplexPipe(socket);
        string name = $"{Name}:{role.ToString().ToLowerInvariant()}:{socket.RemoteEndPoint}";
        PeerSession session = _host!.CreateSession(pipe, role, security: null, connectionName: name);
        _connections[pipe] = RunSessionAsync(pipe, session);
    }

    private async Task RunSessionAsync(SocketDuplexPipe pipe, PeerSession session)
    {
        // Let Run register the connection before anything below can remove it.
        await Task.Yield();
        try
        {
            NodeId remote = await _host!.AttachAsync(session, _stopping.Token);
            _results.Writer.TryWrite(new PlainConnectionResult(session, remote, null));
        }
        catch (Exception ex)
        {
            _results.Writer.TryWrite(new PlainConnectionResult(session, null, ex));
        }

        // Whatever ended the session, the socket goes with it.
        await session.Completion;
        pipe.Dispose();
        _connections.TryRemove(pipe, out _);
    }
}
