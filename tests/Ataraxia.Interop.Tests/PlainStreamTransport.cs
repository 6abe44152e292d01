using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Ataraxia.Protocol;
using Ataraxia.Transport;

namespace Ataraxia.Interop.Tests;

/// <summary>The outcome of one connection: the authenticated peer, or why negotiation failed.</summary>
public sealed record ConnectionResult(PeerSession Session, NodeId? RemoteId, Exception? Error);

/// <summary>
/// A test transport: plain TCP on the loopback address with the stream framing of WIRE.md §4.1 and no
/// encryption, as ataraxia-local uses (§4.3). It listens on an OS-assigned port and opens connections when
/// told to (<see cref="ConnectAsync"/>); it never reconnects.
/// </summary>
public sealed class PlainStreamTransport : ITransport, IAsyncDisposable
{
    private readonly Channel<ConnectionResult> _results = Channel.CreateUnbounded<ConnectionResult>();
    private readonly ConcurrentDictionary<SocketDuplexPipe, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private TcpListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private ITransportHost? _host;

    public string Name => "plain-tcp";

    /// <summary>Gets the port listened on, once started.</summary>
    public int Port => ((IPEndPoint?)_listener?.LocalEndpoint)?.Port ?? throw new InvalidOperationException("The transport is not started.");

    /// <summary>Gets the outcome of every connection, accepted or opened, in the order negotiations ended.</summary>
    public ChannelReader<ConnectionResult> Connections => _results.Reader;

    public ValueTask StartAsync(ITransportHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (_host is not null)
        {
            throw new InvalidOperationException("The transport is already started.");
        }

        _host = host;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = AcceptLoopAsync(_listener);
        return ValueTask.CompletedTask;
    }

    /// <summary>Opens a connection to 127.0.0.1:<paramref name="port"/> and returns once negotiation ended.</summary>
    public async Task<ConnectionResult> ConnectAsync(int port, CancellationToken cancellationToken = default)
    {
        if (_host is null)
        {
            throw new InvalidOperationException("The transport is not started; join the network first.");
        }

        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var outcome = new TaskCompletionSource<ConnectionResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        Run(socket, PeerRole.Client, outcome);
        return await outcome.Task;
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

            Run(socket, PeerRole.Server, outcome: null);
        }
    }

    private void Run(Socket socket, PeerRole role, TaskCompletionSource<ConnectionResult>? outcome)
    {
        socket.NoDelay = true;
        var pipe = new SocketDuplexPipe(socket);
        string name = $"{Name}:{role.ToString().ToLowerInvariant()}:{socket.RemoteEndPoint}";
        PeerSession session = _host!.CreateSession(pipe, role, security: null, connectionName: name);
        _connections[pipe] = RunSessionAsync(pipe, session, outcome);
    }

    private async Task RunSessionAsync(SocketDuplexPipe pipe, PeerSession session, TaskCompletionSource<ConnectionResult>? outcome)
    {
        // Let Run register the connection before anything below can remove it.
        await Task.Yield();
        ConnectionResult result;
        try
        {
            NodeId remote = await _host!.AttachAsync(session, _stopping.Token);
            result = new ConnectionResult(session, remote, null);
        }
        catch (Exception ex)
        {
            result = new ConnectionResult(session, null, ex);
        }

        _results.Writer.TryWrite(result);
        outcome?.TrySetResult(result);

        // Whatever ended the session, the socket goes with it.
        await session.Completion;
        pipe.Dispose();
        _connections.TryRemove(pipe, out _);
    }
}
