using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Ataraxia.Cbor;
using Ataraxia.Protocol;
using Microsoft.Extensions.Logging;

namespace Ataraxia.WebSockets.Internal;

/// <summary>
/// A WebSocket as the framed byte stream a <see cref="PeerSession"/> reads and writes (WIRE.md §4.4): every
/// received binary message becomes one stream frame (a length head, then the message) in <see cref="Input"/>,
/// and every frame the session writes to <see cref="Output"/> leaves as one binary message without the head.
/// Text messages are ignored.
/// </summary>
/// <remarks>
/// <para>
/// One receive loop and one send loop (the only code that sends, the close frame included, so sends never
/// overlap). Both pipes are bounded: the receive loop waits for the session before it reads the next message,
/// which pushes back on the peer through TCP; the session waits for the send loop. A connection therefore holds
/// at most about one message plus <see cref="PipeThreshold"/> in each direction, whatever the peer does.
/// </para>
/// <para>
/// A message larger than the limit ends the input with a <see cref="ProtocolException"/> (the session ends) and
/// the close frame then carries 1009 (MessageTooBig). When the session completes its output the send loop starts
/// the close handshake; a close frame from the peer ends the input (end of stream for the session).
/// </para>
/// </remarks>
internal sealed class WebSocketConnection : IDuplexPipe, IAsyncDisposable
{
    /// <summary>Unconsumed bytes a pipe holds before its writer waits (whole messages are written, so any value works).</summary>
    private const long PipeThreshold = 1024 * 1024;

    private const int ChunkSize = 16 * 1024;

    // Multi-segment messages up to this size are copied and sent as one WebSocket frame; larger ones are sent
    // as one fragment per segment.
    private const int CoalesceLimit = 64 * 1024;

    private readonly WebSocket _socket;
    private readonly long _maxMessageSize;
    private readonly ILogger _logger;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _abort = new();
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private int _closeStatus = (int)WebSocketCloseStatus.NormalClosure;
    private int _closed;

    public WebSocketConnection(WebSocket socket, long maxMessageSize, string name, ILogger logger)
    {
        _socket = socket;
        _maxMessageSize = maxMessageSize;
        _logger = logger;
        Name = name;
        var options = new PipeOptions(pauseWriterThreshold: PipeThreshold, resumeWriterThreshold: PipeThreshold / 2, useSynchronizationContext: false);
        _input = new Pipe(options);
        _output = new Pipe(options);
    }

    /// <summary>Gets what the session reads: one stream frame per received binary message.</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>Gets what the session writes: stream frames, each sent as one binary message.</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>Gets the name used in logs.</summary>
    public string Name { get; }

    /// <summary>Gets a value indicating whether the connection was closed because of an oversized message.</summary>
    public bool ClosedForSize => Volatile.Read(ref _closeStatus) == (int)WebSocketCloseStatus.MessageTooBig;

    /// <summary>Starts the receive and send loops.</summary>
    public void Start()
    {
        _receiving = Task.Run(ReceiveLoopAsync);
        _sending = Task.Run(SendLoopAsync);
    }

    /// <summary>
    /// Ends the connection once the session is done with it: gives the close handshake up to
    /// <paramref name="timeout"/>, then drops the socket and waits for both loops.
    /// </summary>
    /// <param name="timeout">How long the close handshake may take.</param>
    /// <returns>A task that completes when the socket is released.</returns>
    public async Task CloseAsync(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        // Normally the session has completed the output already; if it never ran, this starts the close.
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_sending, _receiving).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A peer that does not answer the close handshake cannot hold the connection open.
        }

        Abort();
        await Task.WhenAll(_sending, _receiving).ConfigureAwait(false);
        _socket.Dispose();
        _abort.Dispose();
    }

    /// <summary>Drops the connection at once (no close handshake) and releases it.</summary>
    /// <returns>A task that completes when the socket is released.</returns>
    public ValueTask DisposeAsync() => new(CloseAsync(TimeSpan.Zero));

    private void Abort()
    {
        _abort.Cancel();
        _socket.Abort();
    }

    private async Task ReceiveLoopAsync()
    {
        PipeWriter input = _input.Writer;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        bool delivering = true;
        bool completed = false;
        Exception? error = null;
        try
        {
            while (true)
            {
                // Once the session stops reading (or the connection is closing for size), messages are still
                // received until the peer's close frame, but only counted and dropped.
                bool discard = !delivering;
                int length = 0;
                long total = 0;
                ValueWebSocketReceiveResult received;
                do
                {
                    if (!discard && length == buffer.Length)
                    {
                        buffer = Grow(buffer, length);
                    }

                    Memory<byte> target = discard ? buffer.AsMemory(0, ChunkSize) : buffer.AsMemory(length);
                    received = await _socket.ReceiveAsync(target, _abort.Token).ConfigureAwait(false);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        Log.ClosedByPeer(_logger, Name, new WebSocketCloseStatusName((int?)_socket.CloseStatus ?? 1005), _socket.CloseStatusDescription);
                        return;
                    }

                    total += received.Count;
                    if (received.MessageType == WebSocketMessageType.Text)
                    {
                        discard = true; // text messages are ignored (WIRE.md §4.4)
                    }
                    else if (!discard)
                    {
                        length += received.Count;
                    }

                    if (delivering && total > _maxMessageSize)
                    {
                        Log.MessageTooBig(_logger, Name, _maxMessageSize);
                        Volatile.Write(ref _closeStatus, (int)WebSocketCloseStatus.MessageTooBig);
                        delivering = false;
                        discard = true;
                        completed = true;
                        await input.CompleteAsync(new ProtocolException(
                            $"Received a WebSocket message larger than the limit of {_maxMessageSize} bytes; the connection closes with 1009 (MessageTooBig).")).ConfigureAwait(false);
                    }
                }
                while (!received.EndOfMessage);

                if (discard)
                {
                    continue;
                }

                new CborWriter(input).WriteHead(CborMajorType.UnsignedInteger, (ulong)length);
                input.Write(buffer.AsSpan(0, length));
                if (buffer.Length > 4 * ChunkSize)
                {
                    // Do not keep a large buffer for the life of the connection.
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
                }

                FlushResult flushed = await input.FlushAsync(_abort.Token).ConfigureAwait(false);
                if (flushed.IsCompleted)
                {
                    delivering = false;
                }
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            error = ex;
            Log.ConnectionFailed(_logger, Name, ex.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!completed)
            {
                await input.CompleteAsync(error).ConfigureAwait(false);
            }
        }
    }

    private byte[] Grow(byte[] buffer, int length)
    {
        // One byte past the limit is enough to tell that a message is too large.
        long limit = Math.Min(_maxMessageSize + 1, Array.MaxLength);
        int size = (int)Math.Min(Math.Max(buffer.Length * 2L, ChunkSize), limit);
        byte[] larger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }

    private async Task SendLoopAsync()
    {
        PipeReader output = _output.Reader;
        try
        {
            while (true)
            {
                ReadResult result = await output.ReadAsync(_abort.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                try
                {
                    while (PeerMessageCodec.TryReadFrame(ref buffer, PeerMessageCodec.MaxEncodableFrameLength, out ReadOnlySequence<byte> message))
                    {
                        await SendMessageAsync(message).ConfigureAwait(false);
                    }
                }
                finally
                {
                    output.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            // The session is done writing: start (or answer) the close handshake.
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                var status = (WebSocketCloseStatus)Volatile.Read(ref _closeStatus);
                string description = status == WebSocketCloseStatus.MessageTooBig ? "Message too big" : string.Empty;
                await _socket.CloseOutputAsync(status, description, _abort.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException or ProtocolException)
        {
            Log.ConnectionFailed(_logger, Name, ex.Message);
        }
        finally
        {
            // The session sees a completed writer and ends, if it has not already.
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask SendMessageAsync(ReadOnlySequence<byte> message)
    {
        if (message.IsSingleSegment)
        {
            await _socket.SendAsync(message.First, WebSocketMessageType.Binary, endOfMessage: true, _abort.Token).ConfigureAwait(false);
            return;
        }

        if (message.Length <= CoalesceLimit)
        {
            int length = (int)message.Length;
            byte[] copy = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                message.CopyTo(copy);
                await _socket.SendAsync(copy.AsMemory(0, length), WebSocketMessageType.Binary, endOfMessage: true, _abort.Token).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }

            return;
        }

        // One fragment per segment; the last one ends the message.
        ReadOnlyMemory<byte> pending = ReadOnlyMemory<byte>.Empty;
        foreach (ReadOnlyMemory<byte> segment in message)
        {
            if (segment.IsEmpty)
            {
                continue;
            }

            if (!pending.IsEmpty)
            {
                await _socket.SendAsync(pending, WebSocketMessageType.Binary, endOfMessage: false, _abort.Token).ConfigureAwait(false);
            }

            pending = segment;
        }

        await _socket.SendAsync(pending, WebSocketMessageType.Binary, endOfMessage: true, _abort.Token).ConfigureAwait(false);
    }
}
