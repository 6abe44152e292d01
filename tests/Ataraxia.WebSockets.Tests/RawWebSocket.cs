using System.Net.WebSockets;
using Ataraxia.Protocol;
using Ataraxia.Testing;

namespace Ataraxia.WebSockets.Tests;

/// <summary>A bare <see cref="ClientWebSocket"/> that speaks the wire format by hand, to see exactly what a server does.</summary>
internal sealed class RawWebSocket : IAsyncDisposable
{
    private RawWebSocket(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }

    /// <summary>Connects, or returns the HTTP status the server answered the upgrade request with.</summary>
    public static async Task<(RawWebSocket? Socket, int Status)> TryConnectAsync(Uri url, IReadOnlyDictionary<string, string>? headers = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        foreach ((string name, string value) in headers ?? new Dictionary<string, string>())
        {
            socket.Options.SetRequestHeader(name, value);
        }

        try
        {
            await socket.ConnectAsync(url, CancellationToken.None).DefaultTimeout();
            return (new RawWebSocket(socket), (int)socket.HttpStatusCode);
        }
        catch (WebSocketException)
        {
            int status = (int)socket.HttpStatusCode;
            socket.Dispose();
            return (null, status);
        }
    }

    public static async Task<RawWebSocket> ConnectAsync(Uri url, IReadOnlyDictionary<string, string>? headers = null)
    {
        (RawWebSocket? socket, int status) = await TryConnectAsync(url, headers);
        return socket ?? throw new InvalidOperationException($"The upgrade was refused with HTTP {status}.");
    }

    /// <summary>Receives the next whole message; <see langword="null"/> with the close status when the server closed.</summary>
    public async Task<(byte[]? Message, WebSocketMessageType Type)> ReceiveAsync()
    {
        using var message = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        while (true)
        {
            WebSocketReceiveResult result = await Socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (null, WebSocketMessageType.Close);
            }

            await message.WriteAsync(buffer.AsMemory(0, result.Count));
            if (result.EndOfMessage)
            {
                return (message.ToArray(), result.MessageType);
            }
        }
    }

    /// <summary>Receives the next peer message, skipping PINGs.</summary>
    public async Task<PeerMessage> ReceivePeerMessageAsync()
    {
        while (true)
        {
            (byte[]? bytes, WebSocketMessageType type) = await ReceiveAsync();
            Assert.NotNull(bytes);
            Assert.Equal(WebSocketMessageType.Binary, type);

            // The whole binary message is exactly one peer message: no length prefix (WIRE.md §4.4).
            PeerMessage message = PeerMessageCodec.Decode(bytes);
            if (message.Type != PeerMessageType.Ping)
            {
                return message;
            }
        }
    }

    /// <summary>Waits for the server's close frame, discarding messages before it, answers it (as browsers do) and returns its status.</summary>
    public async Task<WebSocketCloseStatus?> ReceiveCloseAsync()
    {
        while (true)
        {
            (byte[]? bytes, _) = await ReceiveAsync();
            if (bytes is null)
            {
                if (Socket.State == WebSocketState.CloseReceived)
                {
                    await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).DefaultTimeout();
                }

                return Socket.CloseStatus;
            }
        }
    }

    public Task SendAsync(PeerMessage message) => SendAsync(PeerMessageCodec.Encode(message));

    public Task SendAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Binary) =>
        Socket.SendAsync(bytes, type, endOfMessage: true, CancellationToken.None).DefaultTimeout();

    public async ValueTask DisposeAsync()
    {
        if (Socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).DefaultTimeout();
            }
            catch (WebSocketException)
            {
                // The server dropped the connection already.
            }
        }

        Socket.Dispose();
    }
}
