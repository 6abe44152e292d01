using System.IO.Pipelines;
using Ataraxia.Protocol;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Sessions;

public sealed class WriteBatchingTests
{
    [Fact]
    public async Task Many_small_messages_leave_in_few_flushes()
    {
        (DuplexPipe serverEnd, DuplexPipe clientEnd) = DuplexPipe.CreatePair();
        var counting = new CountingDuplexPipe(clientEnd);
        var options = new PeerSessionOptions { OutboundQueueCapacity = 4096, CloseTimeout = TimeSpan.FromSeconds(1) };
        await using var server = new PeerSession(serverEnd, PeerRole.Server, NodeId.NewId(), options);
        await using var client = new PeerSession(counting, PeerRole.Client, NodeId.NewId(), options);
        server.Start();
        client.Start();
        await client.WaitForActiveAsync().DefaultTimeout();
        await server.WaitForActiveAsync().DefaultTimeout();
        int flushesBefore = counting.Flushes;

        const int count = 2000;
        for (ulong i = 0; i < count; i++)
        {
            Assert.True(client.TrySend(new PeerDataResult(PeerMessageType.DataAck, i)));
        }

        for (int i = 0; i < count; i++)
        {
            await server.Incoming.ReadAsync().AsTask().DefaultTimeout();
        }

        int flushes = counting.Flushes - flushesBefore;
        Assert.InRange(flushes, 1, count / 10);
    }

    private sealed class CountingDuplexPipe(IDuplexPipe inner) : IDuplexPipe
    {
        private readonly CountingWriter _writer = new(inner.Output);

        public int Flushes => _writer.Flushes;

        public PipeReader Input => inner.Input;

        public PipeWriter Output => _writer;

        private sealed class CountingWriter(PipeWriter inner) : PipeWriter
        {
            private int _flushes;

            public int Flushes => Volatile.Read(ref _flushes);

            public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

            public override long UnflushedBytes => inner.UnflushedBytes;

            public override void Advance(int bytes) => inner.Advance(bytes);

            public override void CancelPendingFlush() => inner.CancelPendingFlush();

            public override void Complete(Exception? exception = null) => inner.Complete(exception);

            public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

            public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
            {
                Interlocked.Increment(ref _flushes);
                return inner.FlushAsync(cancellationToken);
            }

            public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

            public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
        }
    }
}
