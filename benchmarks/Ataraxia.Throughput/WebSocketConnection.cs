using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Ataraxia.Throughput;

/// <summary>
/// Opens <see cref="WebSocketConnection"/>s to a <see cref="UriEndPoint"/> (<c>ws://</c> or <c>wss://</c>), for
/// clients built on <c>Microsoft.AspNetCore.Connections</c> such as SignalR's <c>HubConnectionBuilder</c>.
/// </summary>
/// <param name="messageType">How the bytes the application writes are sent: text for SignalR's JSON hub protocol.</param>
public sealed class WebSocketConnectionFactory(WebSocketMessageType messageType) : IConnectionFactory
{
    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not UriEndPoint { Uri: Uri url })
        {
            throw new NotSupportedException($"{endpoint} is not a UriEndPoint.");
        }

        var socket = new ClientWebSocket();
        try
        {
            await socket.ConnectAsync(url, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new WebSocketConnection(socket, messageType);
    }
}

/// <summary>
/// A connected <see cref="WebSocket"/> as a <see cref="ConnectionContext"/>: what the application writes to
/// <see cref="Transport"/>'s output is sent as one WebSocket message per read of the pipe; the payloads of received
/// messages are written to its input, without message boundaries (the protocol above frames its own messages).
/// </summary>
/// <remarks>
/// Completing the output starts the close handshake; the input completes when the peer's close arrives (or with the
/// error that ended the connection). <see cref="DisposeAsync"/> completes the output, waits a few seconds for the
/// handshake, aborts the socket if it does not finish, and returns once both pumps have ended.
/// </remarks>
public sealed class WebSocketConnection : ConnectionContext
{
    private const int ReceiveBufferSize = 4096;
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly WebSocket _socket;
    private readonly WebSocketMessageType _messageType;
    private readonly Pipe _outgoing = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _incoming = new(new PipeOptions(useSynchronizationContext: false));
    private readonly CancellationTokenSource _aborted = new();
    private readonly Task _sending;
    private readonly Task _receiving;
    private int _disposed;

    public WebSocketConnection(WebSocket socket, WebSocketMessageType messageType)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        _messageType = messageType;
        Transport = new DuplexPipe(_incoming.Reader, _outgoing.Writer);
        _sending = Task.Run(SendAsync);
        _receiving = Task.Run(ReceiveAsync);
    }

    public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N");

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: the socket is already closed.
            return;
        }

        _socket.Abort();
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _outgoing.Writer.CompleteAsync();
            Task pumps = Task.WhenAll(_sending, _receiving);
            try
            {
                await pumps.WaitAsync(CloseTimeout);
            }
            catch (TimeoutException)
            {
                // The peer did not answer the close (or the application stopped reading): end the connection.
                await _aborted.CancelAsync();
                _socket.Abort();
                await pumps;
            }

            await _incoming.Reader.CompleteAsync();
            _socket.Dispose();
            _aborted.Dispose();
        }

        await base.DisposeAsync();
    }

    /// <summary>Sends what the application writes until it completes the output, then closes the sending side.</summary>
    private async Task SendAsync()
    {
        PipeReader reader = _outgoing.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync(_aborted.Token);
                ReadOnlySequence<byte> buffer = result.Buffer;
                try
                {
                    if (!buffer.IsEmpty)
                    {
                        await SendMessageAsync(buffer);
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, _aborted.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The application's next flush sees the output completed; the receive pump sees the socket aborted.
            error = ex;
            _socket.Abort();
        }
        finally
        {
            await reader.CompleteAsync(error);
        }
    }

    private async ValueTask SendMessageAsync(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            await _socket.SendAsync(buffer.First, _messageType, endOfMessage: true, _aborted.Token);
            return;
        }

        // Several segments: one message in as many frames, the last one ending it.
        SequencePosition position = buffer.Start;
        buffer.TryGet(ref position, out ReadOnlyMemory<byte> segment);
        while (buffer.TryGet(ref position, out ReadOnlyMemory<byte> next))
        {
            await _socket.SendAsync(segment, _messageType, endOfMessage: false, _aborted.Token);
            segment = next;
        }

        await _socket.SendAsync(segment, _messageType, endOfMessage: true, _aborted.Token);
    }

    /// <summary>Writes the payloads the peer sends to the application until the peer closes.</summary>
    private async Task ReceiveAsync()
    {
        PipeWriter writer = _incoming.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                ValueWebSocketReceiveResult received = await _socket.ReceiveAsync(writer.GetMemory(ReceiveBufferSize), _aborted.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                writer.Advance(received.Count);
                FlushResult flushed = await writer.FlushAsync(_aborted.Token);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            error = ex;
        }
        finally
        {
            await writer.CompleteAsync(error);
        }
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
