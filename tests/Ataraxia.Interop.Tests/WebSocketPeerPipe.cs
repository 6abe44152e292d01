using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Ataraxia.Cbor;
using Ataraxia.Protocol;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// A WebSocket as the framed byte stream a <see cref="PeerSession"/> reads and writes: every received binary
/// WebSocket message becomes one stream frame (CBOR length head, WIRE.md §4.1, then the message) in the input
/// pipe, and every frame the session writes to the output pipe leaves as one binary WebSocket message without
/// the length head (§4.4). Text messages are ignored.
/// </summary>
/// <remarks>
/// One receive loop and one send loop. When the session completes its output, the send loop starts the close
/// handshake; when the peer closes, the input ends (the session sees end-of-stream). A message larger than the
/// session's frame limit, or a receive error, ends the input with that error.
/// </remarks>
public sealed class WebSocketPeerPipe : IDuplexPipe, IAsyncDisposable
{
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(2);

    private readonly WebSocket _socket;
    private readonly long _maxMessageSize;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _abort = new();
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private int _disposed;

    public WebSocketPeerPipe(WebSocket socket, long maxMessageSize)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        _maxMessageSize = maxMessageSize;

        // Whole frames are written at once; the threshold (a frame plus headroom) only bounds how far reading
        // runs ahead of the session.
        long threshold = maxMessageSize + (1024 * 1024);
        _input = new Pipe(new PipeOptions(pauseWriterThreshold: threshold, resumeWriterThreshold: threshold / 2, useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(useSynchronizationContext: false));
    }

    /// <summary>Gets what the session reads: one stream frame per received binary message.</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>Gets what the session writes: stream frames, each sent as one binary message.</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>Starts the receive and send loops.</summary>
    public void Start()
    {
        _receiving = Task.Run(ReceiveLoopAsync);
        _sending = Task.Run(SendLoopAsync);
    }

    /// <summary>Drops the connection at once.</summary>
    public void Abort()
    {
        _abort.Cancel();
        _socket.Abort();
    }

    /// <summary>Waits a moment for the close handshake, then drops the connection and waits for both loops.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _receiving.WaitAsync(CloseHandshakeTimeout);
        }
        catch (TimeoutException)
        {
            // The peer did not answer the close handshake; it is dropped below.
        }

        Abort();
        await Task.WhenAll(_receiving, _sending);
        _socket.Dispose();

        // _abort stays undisposed (it holds no timer): Abort may still be called by the transport.
    }

    private async Task ReceiveLoopAsync()
    {
        PipeWriter input = _input.Writer;
        var message = new ArrayBufferWriter<byte>(64 * 1024);
        Exception? error = null;
        try
        {
            while (true)
            {
                message.ResetWrittenCount();
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await _socket.ReceiveAsync(message.GetMemory(64 * 1024), _abort.Token);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        return; // the peer closed: end of stream for the session
                    }

                    message.Advance(received.Count);
                    if (message.WrittenCount > _maxMessageSize)
                    {
                        throw new ProtocolException($"Received a WebSocket message of more than {_maxMessageSize} bytes.");
                    }
                }
                while (!received.EndOfMessage);

                if (received.MessageType != WebSocketMessageType.Binary)
                {
                    continue; // text messages are ignored (WIRE.md §4.4)
                }

                new CborWriter(input).WriteHead(CborMajorType.UnsignedInteger, (ulong)message.WrittenCount);
                input.Write(message.WrittenSpan);
                FlushResult flushed = await input.FlushAsync(_abort.Token);
                if (flushed.IsCompleted)
                {
                    return; // the session stopped reading
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ProtocolException or ObjectDisposedException or IOException)
        {
            // Aborted on purpose, or the connection broke (a dropped socket surfaces as any of these).
            error = _abort.IsCancellationRequested ? null : ex;
        }
        finally
        {
            await input.CompleteAsync(error);
        }
    }

    private async Task SendLoopAsync()
    {
        PipeReader output = _output.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await output.ReadAsync(_abort.Token);
                ReadOnlySequence<byte> buffer = result.Buffer;
                try
                {
                    while (PeerMessageCodec.TryReadFrame(ref buffer, PeerMessageCodec.MaxEncodableFrameLength, out ReadOnlySequence<byte> frame))
                    {
                        ReadOnlyMemory<byte> payload = frame.IsSingleSegment ? frame.First : frame.ToArray();
                        await _socket.SendAsync(payload, WebSocketMessageType.Binary, endOfMessage: true, _abort.Token);
                    }

                    if (result.IsCompleted || result.IsCanceled)
                    {
                        break;
                    }
                }
                finally
                {
                    output.AdvanceTo(buffer.Start, buffer.End);
                }
            }

            // The session finished writing: close our side, no BYE on WebSockets (WIRE.md §8.3).
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, statusDescription: null, _abort.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException or IOException)
        {
            // Aborted on purpose, or the connection broke (a dropped socket surfaces as any of these).
            error = _abort.IsCancellationRequested ? null : ex;
        }
        finally
        {
            // A failed send makes the session's next flush report completion, which ends the session.
            await output.CompleteAsync(error);
        }
    }
}
