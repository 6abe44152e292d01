using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Ataraxia.Cbor;
using Ataraxia.Protocol;
using Ataraxia.Testing;
using Ataraxia.WebSockets.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ataraxia.WebSockets.Tests;

/// <summary>
/// The adapter between a WebSocket and a session keeps memory bounded in both directions: a peer that does not
/// read, or a session that does not read, stalls the other side after about a pipe's worth of data plus what the
/// kernel buffers, instead of letting buffers grow.
/// </summary>
[Trait("Category", "Integration")]
public sealed class WebSocketConnectionTests
{
    private const int MessageSize = 64 * 1024;

    // Without backpressure these loops would run to the cap; with it they stall after a pipe (1 MiB) plus the
    // loopback socket buffers (a few MiB).
    private const long Cap = 256L * 1024 * 1024;
    private const long Bound = 64L * 1024 * 1024;

    [Fact]
    public async Task A_peer_that_does_not_read_stalls_the_session_after_a_bounded_amount()
    {
        (WebSocket local, WebSocket remote, IDisposable sockets) = await CreatePairAsync();
        using IDisposable socketsScope = sockets;
        var connection = new WebSocketConnection(local, 1024 * 1024, "test", NullLogger.Instance);
        connection.Start();
        PipeWriter output = connection.Output;
        byte[] payload = new byte[MessageSize];

        long written = 0;
        int messages = 0;
        Task<FlushResult>? stalled = null;
        while (written < Cap)
        {
            new CborWriter(output).WriteHead(CborMajorType.UnsignedInteger, MessageSize);
            output.Write(payload);
            written += MessageSize;
            messages++;
            Task<FlushResult> flush = output.FlushAsync().AsTask();
            if (await Task.WhenAny(flush, Task.Delay(TaskTimeoutExtensions.ExpectedTimeout)) != flush)
            {
                stalled = flush;
                break;
            }
        }

        Assert.NotNull(stalled);
        Assert.True(written < Bound, $"{written} bytes were accepted from the session before it had to wait.");

        // Once the peer reads, everything arrives, one binary message per frame, and the session may write again.
        for (int i = 0; i < messages; i++)
        {
            Assert.Equal(MessageSize, await ReceiveMessageLengthAsync(remote));
        }

        await stalled.DefaultTimeout();
        await output.CompleteAsync();
        Assert.Equal(-1, await ReceiveMessageLengthAsync(remote));
        await remote.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).DefaultTimeout();
        await connection.CloseAsync(TimeSpan.FromSeconds(5)).DefaultTimeout();
    }

    [Fact]
    public async Task A_session_that_does_not_read_stops_reading_from_the_peer()
    {
        (WebSocket local, WebSocket remote, IDisposable sockets) = await CreatePairAsync();
        using IDisposable socketsScope = sockets;
        var connection = new WebSocketConnection(local, 1024 * 1024, "test", NullLogger.Instance);
        connection.Start();
        byte[] payload = new byte[MessageSize];

        long sent = 0;
        int messages = 0;
        Task? stalled = null;
        while (sent < Cap)
        {
            Task send = remote.SendAsync(payload, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            if (await Task.WhenAny(send, Task.Delay(TaskTimeoutExtensions.ExpectedTimeout)) != send)
            {
                stalled = send;
                messages++;
                break;
            }

            sent += MessageSize;
            messages++;
        }

        Assert.NotNull(stalled);
        Assert.True(sent < Bound, $"{sent} bytes were received for a session that reads nothing.");

        // When the session reads, every message arrives as one length-prefixed frame, and the peer may send again.
        PipeReader input = connection.Input;
        int frames = 0;
        while (frames < messages)
        {
            ReadResult result = await input.ReadAsync().AsTask().DefaultTimeout();
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (PeerMessageCodec.TryReadFrame(ref buffer, MessageSize, out ReadOnlySequence<byte> frame))
            {
                Assert.Equal(MessageSize, frame.Length);
                frames++;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }

        await stalled.DefaultTimeout();
        await remote.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).DefaultTimeout();
        ReadResult end = await input.ReadAsync().AsTask().DefaultTimeout();
        Assert.True(end.IsCompleted);
        await input.CompleteAsync();
        await connection.CloseAsync(TimeSpan.FromSeconds(5)).DefaultTimeout();
    }

    /// <summary>Receives one whole message and returns its length, or -1 for a close frame.</summary>
    private static async Task<int> ReceiveMessageLengthAsync(WebSocket socket)
    {
        byte[] buffer = new byte[16 * 1024];
        int length = 0;
        while (true)
        {
            ValueWebSocketReceiveResult result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().DefaultTimeout();
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return -1;
            }

            Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
            length += result.Count;
            if (result.EndOfMessage)
            {
                return length;
            }
        }
    }

    private static async Task<(WebSocket Local, WebSocket Remote, IDisposable Sockets)> CreatePairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        Task connect = client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        TcpClient server = await listener.AcceptTcpClientAsync().DefaultTimeout();
        await connect.DefaultTimeout();
        WebSocket local = WebSocket.CreateFromStream(server.GetStream(), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        WebSocket remote = WebSocket.CreateFromStream(client.GetStream(), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        return (local, remote, new Disposables(remote, client, server));
    }

    private sealed class Disposables(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (IDisposable item in items)
            {
                item.Dispose();
            }
        }
    }
}
