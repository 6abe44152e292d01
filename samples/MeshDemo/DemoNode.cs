using System.Collections.Concurrent;
using System.Diagnostics;
using Ataraxia.Cbor;
using Ataraxia.Transport;

namespace Ataraxia.MeshDemo;

/// <summary>One node of the demo: its network, the transports it may lose, and answers to pings.</summary>
internal sealed class DemoNode : IAsyncDisposable
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _pongs = new();
    private long _nextPing;

    public DemoNode(string name, NetworkOptions options, IReadOnlyList<CrashableTransport> crashable)
    {
        Name = name;
        Crashable = crashable;
        Network = new Network(options);
        Network.MessageReceived += OnMessage;
    }

    public string Name { get; }

    public Network Network { get; }

    public IReadOnlyList<CrashableTransport> Crashable { get; }

    public bool Crashed { get; private set; }

    /// <summary>Gets the last <c>demo:hello</c> message that arrived.</summary>
    public TaskCompletionSource<Message> Hello { get; private set; } = NewHello();

    public TaskCompletionSource<Message> ExpectHello() => Hello = NewHello();

    /// <summary>Sends a message there and back and measures the round trip, through every router on the way.</summary>
    public async Task<TimeSpan> PingAsync(Node target, CancellationToken cancellationToken)
    {
        long id = Interlocked.Increment(ref _nextPing);
        var pong = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pongs[id] = pong;
        try
        {
            long start = Stopwatch.GetTimestamp();
            await target.SendAsync("demo:ping", new CborMap { ["id"] = id }, cancellationToken);
            await pong.Task.WaitAsync(cancellationToken);
            return Stopwatch.GetElapsedTime(start);
        }
        finally
        {
            _pongs.TryRemove(id, out _);
        }
    }

    /// <summary>Ends every connection of the node at once, without BYE, and lets nobody connect again.</summary>
    public async Task CrashAsync(CancellationToken cancellationToken)
    {
        Crashed = true;
        await Task.WhenAll(Crashable.Select(t => t.CrashAsync(cancellationToken)));
    }

    /// <summary>Leaves the mesh, then disposes the transports (the TCP transport's certificates, for example).</summary>
    public async ValueTask DisposeAsync()
    {
        await Network.DisposeAsync();
        foreach (ITransport transport in Network.Options.Transports)
        {
            if ((transport is CrashableTransport crashable ? crashable.Inner : transport) is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    private static TaskCompletionSource<Message> NewHello() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Runs on the network's event loop, never on a connection's read loop.
    private void OnMessage(object? sender, MessageEventArgs e)
    {
        Message message = e.Message;
        switch (message.Type)
        {
            case "demo:ping":
                _ = AnswerAsync(message);
                break;
            case "demo:pong" when _pongs.TryGetValue(message.Data.AsMap()["id"].AsInt64(), out TaskCompletionSource? pong):
                pong.TrySetResult();
                break;
            case "demo:hello":
                Hello.TrySetResult(message);
                break;
        }
    }

    private static async Task AnswerAsync(Message ping)
    {
        try
        {
            await ping.Source.SendAsync("demo:pong", ping.Data);
        }
        catch (MessageDeliveryException)
        {
            // The pinging side times out and says so.
        }
    }
}
