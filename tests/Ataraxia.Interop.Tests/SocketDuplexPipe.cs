using System.IO.Pipelines;
using System.Net.Sockets;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// A connected socket as an <see cref="IDuplexPipe"/>: <see cref="PipeReader.Create(Stream, StreamPipeReaderOptions)"/>
/// and <see cref="PipeWriter.Create(Stream, StreamPipeWriterOptions)"/> over its <see cref="NetworkStream"/>.
/// Completing the output half-closes the socket (the peer reads end-of-stream); once both ends are completed, or
/// on <see cref="Dispose"/>, the socket is closed.
/// </summary>
/// <remarks>
/// The stream reader has no pause threshold: it keeps buffering until a whole frame is there, whatever its size,
/// which is what <see cref="Protocol.PeerSession"/> needs from its input.
/// </remarks>
public sealed class SocketDuplexPipe : IDuplexPipe, IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private int _completedEnds;
    private int _disposed;

    public SocketDuplexPipe(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Input = new CompletionNotifyingReader(PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true)), OnEndCompleted);
        Output = new CompletionNotifyingWriter(PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true)), OnOutputCompleted);
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    /// <summary>Gets a value indicating whether the socket was closed.</summary>
    public bool IsClosed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Closes the socket at once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stream.Dispose();
        }
    }

    private void OnOutputCompleted()
    {
        try
        {
            // FIN after everything written: the JavaScript peer sees 'end', as with socket.end().
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        OnEndCompleted();
    }

    private void OnEndCompleted()
    {
        if (Interlocked.Increment(ref _completedEnds) == 2)
        {
            Dispose();
        }
    }

    private sealed class CompletionNotifyingReader(PipeReader inner, Action completed) : PipeReader
    {
        private int _completed;

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => inner.ReadAsync(cancellationToken);

        public override bool TryRead(out ReadResult result) => inner.TryRead(out result);

        public override void Complete(Exception? exception = null)
        {
            inner.Complete(exception);
            Notify();
        }

        public override async ValueTask CompleteAsync(Exception? exception = null)
        {
            await inner.CompleteAsync(exception);
            Notify();
        }

        private void Notify()
        {
            if (Interlocked.Exchange(ref _completed, 1) == 0)
            {
                completed();
            }
        }
    }

    private sealed class CompletionNotifyingWriter(PipeWriter inner, Action completed) : PipeWriter
    {
        private int _completed;

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(source, cancellationToken);

        public override void Complete(Exception? exception = null)
        {
            CompleteInner(exception);
            Notify();
        }

        public override async ValueTask CompleteAsync(Exception? exception = null)
        {
            try
            {
                await inner.CompleteAsync(exception);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                // The final flush failed because the connection is already gone; nothing left to deliver.
            }

            Notify();
        }

        private void CompleteInner(Exception? exception)
        {
            try
            {
                inner.Complete(exception);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
            }
        }

        private void Notify()
        {
            if (Interlocked.Exchange(ref _completed, 1) == 0)
            {
                completed();
            }
        }
    }
}
