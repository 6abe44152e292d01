using System.Buffers;
using System.IO.Pipelines;
using Ataraxia.Protocol;
using Xunit;

namespace Ataraxia.Testing;

/// <summary>
/// The far end of an in-memory connection driven by hand: a test writes exact frames or raw bytes and reads
/// what the session under test sent, to play a peer that misbehaves on purpose.
/// </summary>
public sealed class ScriptedPeer(IDuplexPipe pipe)
{
    public async Task SendAsync(PeerMessage message)
    {
        PeerMessageCodec.WriteFrame(message, pipe.Output);
        await pipe.Output.FlushAsync().ConfigureAwait(false);
    }

    public async Task SendRawAsync(byte[] bytes)
    {
        await pipe.Output.WriteAsync(bytes).ConfigureAwait(false);
    }

    /// <summary>Reads the next message the session sent; throws on timeout or end of stream.</summary>
    public async Task<PeerMessage> ReceiveAsync(TimeSpan? timeout = null)
    {
        PeerMessage? message = await TryReceiveAsync(timeout).ConfigureAwait(false);
        return message ?? throw new EndOfStreamException("The session closed the connection.");
    }

    /// <summary>Reads the next message, or returns null when the session closed its side.</summary>
    public async Task<PeerMessage?> TryReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeoutExtensions.DefaultTimeoutValue);
        while (true)
        {
            ReadResult result = await pipe.Input.ReadAsync(cts.Token).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (PeerMessageCodec.TryReadFrame(ref buffer, 64 * 1024 * 1024, out ReadOnlySequence<byte> frame))
            {
                PeerMessage message = PeerMessageCodec.Decode(frame);
                pipe.Input.AdvanceTo(buffer.Start);
                return message;
            }

            pipe.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>Reads messages until one matches, discarding the others (pings, topology chatter).</summary>
    public async Task<T> ReceiveAsync<T>(Func<T, bool>? match = null, TimeSpan? timeout = null)
        where T : PeerMessage
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeoutExtensions.DefaultTimeoutValue);
        while (true)
        {
            PeerMessage message = await ReceiveAsync(timeout).WaitAsync(cts.Token).ConfigureAwait(false);
            if (message is T typed && (match is null || match(typed)))
            {
                return typed;
            }
        }
    }

    /// <summary>Waits until the session closes its side, discarding what it still sends.</summary>
    public async Task WaitForEndOfStreamAsync(TimeSpan? timeout = null)
    {
        while (await TryReceiveAsync(timeout).ConfigureAwait(false) is not null)
        {
        }
    }

    public async Task CompleteAsync()
    {
        await pipe.Output.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Plays an anonymous client through negotiation against a server session.</summary>
    public async Task NegotiateAsClientAsync(NodeId id)
    {
        Assert.Equal(PeerMessageType.Hello, (await ReceiveAsync().ConfigureAwait(false)).Type);
        await SendAsync(new PeerIdentify(PeerMessageType.Select, id)).ConfigureAwait(false);
        Assert.Equal(PeerMessageType.Ok, (await ReceiveAsync().ConfigureAwait(false)).Type);
        await SendAsync(new PeerAuth("anonymous", ReadOnlyMemory<byte>.Empty)).ConfigureAwait(false);
        Assert.Equal(PeerMessageType.Ok, (await ReceiveAsync().ConfigureAwait(false)).Type);
        await SendAsync(PeerSignal.Begin).ConfigureAwait(false);
    }
}
