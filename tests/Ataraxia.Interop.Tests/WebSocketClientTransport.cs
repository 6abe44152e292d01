using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;
using Ataraxia.Protocol;
using Ataraxia.Transport;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// A test transport: WebSocket client connections (<see cref="ClientWebSocket"/>) to <c>ws://127.0.0.1:port/</c>
/// carrying one peer message per binary WebSocket message, as the JavaScript ws transports do (WIRE.md §4.4). It
/// opens connections when told to (<see cref="ConnectAsync"/>) and never reconnects.
/// </summary>
/// <remarks>
/// Sessions over it send no BYE on close and ignore unknown tags, like JavaScript WebSocket peers (§4.4, §8.3).
/// </remarks>
public sealed class WebSocketClientTransport : ITransport, IAsyncDisposable
{
    private readonly Channel<ConnectionResult> _results = Channel.CreateUnbounded<ConnectionResult>();
    private readonly ConcurrentDictionary<WebSocketPeerPipe, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private ITransportHost? _host;

    public string Name => "ws-client";

    /// <summary>Gets the outcome of every connection, in the order negotiations ended.</summary>
    public ChannelReader<ConnectionResult> Connections => _results.Reader;

    public ValueTask StartAsync(ITransportHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (_host is not null)
        {
            throw new InvalidOperationException("The transport is already started.");
        }

        _host = host;
        return ValueTask.CompletedTask;
    }

    /// <summary>Opens a WebSocket to 127.0.0.1:<paramref name="port"/> and returns once negotiation ended.</summary>
    public async Task<ConnectionResult> ConnectAsync(int port, CancellationToken cancellationToken = default)
    {
        ITransportHost host = _host ?? throw new InvalidOperationException("The transport is not started; join the network first.");
        var socket = new ClientWebSocket();

        // The peer protocol has its own liveness (PING every 30 s, WIRE.md §8.1); no WebSocket pings on top.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var uri = new Uri($"ws://127.0.0.1:{port}/");
        try
        {
            await socket.ConnectAsync(uri, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var pipe = new WebSocketPeerPipe(socket, host.SessionOptions.MaxFrameSize);
        PeerSession session = host.CreateSession(
            pipe,
            PeerRole.Client,
            security: null,
            connectionName: $"{Name}:{uri}",
            configure: o => o with { SendByeOnClose = false, IgnoreUnknownMessageTypes = true });
        var outcome = new TaskCompletionSource<ConnectionResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _connections[pipe] = RunSessionAsync(pipe, session, outcome);
        return await outcome.Task;
    }

    /// <summary>Nothing to stop: the transport does not listen. Sessions stay up until the network closes them.</summary>
    public ValueTask StopAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    /// <summary>Ends the negotiations still running and closes every WebSocket that is still open.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (WebSocketPeerPipe pipe in _connections.Keys)
        {
            pipe.Abort();
        }

        await Task.WhenAll(_connections.Values);
        _results.Writer.TryComplete();
        _stopping.Dispose();
    }

    private async Task RunSessionAsync(WebSocketPeerPipe pipe, PeerSession session, TaskCompletionSource<ConnectionResult> outcome)
    {
        // Let ConnectAsync register the connection before anything below can remove it.
        await Task.Yield();
        pipe.Start();
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
        outcome.TrySetResult(result);

        // Whatever ended the session, the WebSocket goes with it (after a close handshake, if the peer answers).
        await session.Completion;
        await pipe.DisposeAsync();
        _connections.TryRemove(pipe, out _);
    }
}
