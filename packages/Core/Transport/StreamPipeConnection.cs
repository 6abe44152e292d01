using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace Ataraxia.Transport;

/// <summary>
/// A connected stream (a socket, TLS over a socket, a Unix domain socket or a named pipe) exposed as the
/// <see cref="IDuplexPipe"/> a <see cref="Protocol.PeerSession"/> runs over, for stream transports: a receive pump
/// and a send pump move bytes between the stream and two pipes, so the session's half-close reaches the socket and
/// both ends are released once the session is done with them.
/// </summary>
/// <remarks>
/// Idle connections hold no receive buffer (the pump waits with a zero-byte read); writes are coalesced into chunks
/// of up to 64 KiB, so many small frames leave in one system call (and, under TLS, in full records).
/// </remarks>
public sealed class StreamPipeConnection : IDuplexPipe, IAsyncDisposable
{
    private const int SegmentSize = 16 * 1024;
    private const int OutputPauseThreshold = 1024 * 1024;
    private const int WriteChunkSize = 64 * 1024;
    private readonly Stream _stream;
    private readonly Socket? _socket;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Task _receive;
    private readonly Task _send;
    private int _disposed;

    /// <summary>Creates the connection and starts its pumps.</summary>
    /// <param name="stream">The connected stream; disposed with the connection.</param>
    /// <param name="socket">The socket under the stream, for half-close and a prompt close; <see langword="null"/> for a named pipe.</param>
    /// <param name="maxBufferedBytes">The most received bytes buffered before reading pauses; must exceed the largest frame the session accepts.</param>
    public StreamPipeConnection(Stream stream, Socket? socket, long maxBufferedBytes)
    {
        _stream = stream;
        _socket = socket;
        // The input must hold a whole frame (the session cannot consume half of one); the output only needs to keep
        // the socket busy, so a session that writes faster than the network waits early.
        _input = new Pipe(new PipeOptions(
            pauseWriterThreshold: maxBufferedBytes,
            resumeWriterThreshold: maxBufferedBytes / 2,
            minimumSegmentSize: SegmentSize,
            useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(
            pauseWriterThreshold: Math.Min(maxBufferedBytes, OutputPauseThreshold),
            resumeWriterThreshold: Math.Min(maxBufferedBytes, OutputPauseThreshold) / 2,
            minimumSegmentSize: SegmentSize,
            useSynchronizationContext: false));
        _receive = Task.Run(ReceiveAsync);
        _send = Task.Run(SendAsync);
    }

    /// <inheritdoc />
    public PipeReader Input => _input.Reader;

    /// <inheritdoc />
    public PipeWriter Output => _output.Writer;

    /// <summary>
    /// Closes the connection once the session is done with it: lets what the session wrote reach the socket
    /// (within <paramref name="drainTimeout"/>), then closes the socket, which also ends the receive side.
    /// </summary>
    /// <param name="drainTimeout">How long queued bytes may take to leave.</param>
    /// <returns>A task that completes when both pumps ended.</returns>
    public async Task CloseAsync(TimeSpan drainTimeout)
    {
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        try
        {
            await _send.WaitAsync(drainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A peer that does not read cannot hold the socket open.
        }

        await DisposeAsync().ConfigureAwait(false);
        await _receive.ConfigureAwait(false);
    }

    /// <summary>Closes the stream and the socket at once; the pumps end with them.</summary>
    /// <returns>A task that completes when the stream is disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket?.Close(0);
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task ReceiveAsync()
    {
        PipeWriter writer = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                // Wait for data without holding a buffer (a zero-byte read), so an idle connection keeps no receive
                // memory; then read into a segment. End of stream shows as 0 from the real read.
                await _stream.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
                Memory<byte> memory = writer.GetMemory(SegmentSize);
                int read = await _stream.ReadAsync(memory).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                writer.Advance(read);
                FlushResult result = await writer.FlushAsync().ConfigureAwait(false);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            error = ex is ObjectDisposedException ? null : ex;
        }

        await writer.CompleteAsync(error).ConfigureAwait(false);
    }

    private async Task SendAsync()
    {
        PipeReader reader = _output.Reader;
        byte[] scratch = ArrayPool<byte>.Shared.Rent(WriteChunkSize);
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                await WriteCoalescedAsync(result.Buffer, scratch).ConfigureAwait(false);
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }

                await _stream.FlushAsync().ConfigureAwait(false);
            }

            await _stream.FlushAsync().ConfigureAwait(false);

            // Half-close: the peer reads end-of-stream (after TLS close_notify when there is TLS). Named pipes have no
            // half-close; they end on dispose.
            if (_stream is System.Net.Security.SslStream ssl)
            {
                await ssl.ShutdownAsync().ConfigureAwait(false);
            }

            _socket?.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is gone; the receive side will notice.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }

        await reader.CompleteAsync().ConfigureAwait(false);
    }

    // Many small segments become few large writes: one system call (and, under TLS, one record) per 64 KiB rather
    // than one per pipe segment. Large segments go out as they are.
    private async ValueTask WriteCoalescedAsync(ReadOnlySequence<byte> buffer, byte[] scratch)
    {
        if (buffer.IsSingleSegment)
        {
            await _stream.WriteAsync(buffer.First).ConfigureAwait(false);
            return;
        }

        int used = 0;
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            ReadOnlyMemory<byte> rest = segment;
            if (used == 0 && rest.Length >= scratch.Length)
            {
                await _stream.WriteAsync(rest).ConfigureAwait(false);
                continue;
            }

            while (!rest.IsEmpty)
            {
                int take = Math.Min(rest.Length, scratch.Length - used);
                rest[..take].CopyTo(scratch.AsMemory(used));
                used += take;
                rest = rest[take..];
                if (used == scratch.Length)
                {
                    await _stream.WriteAsync(scratch.AsMemory(0, used)).ConfigureAwait(false);
                    used = 0;
                }
            }
        }

        if (used > 0)
        {
            await _stream.WriteAsync(scratch.AsMemory(0, used)).ConfigureAwait(false);
        }
    }
}
