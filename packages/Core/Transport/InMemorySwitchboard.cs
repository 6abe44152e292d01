using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Threading.Channels;
using Ataraxia.Protocol;

namespace Ataraxia.Transport;

/// <summary>
/// Connects networks inside one process, with fault injection for tests: add and cut links, partition sets of
/// nodes, delay a link, drop a fraction of the DATA messages on a link.
/// </summary>
/// <remarks>
/// <para>
/// Create one <see cref="InMemoryTransport"/> per network with <see cref="CreateTransport"/>, join the networks,
/// then link them. A link is one connection carrying the real peer protocol (negotiation, authentication,
/// pings), so everything above the transport behaves as over a socket. Links are undirected; the first
/// transport named plays the client.
/// </para>
/// <para>All members are thread-safe.</para>
/// </remarks>
public sealed class InMemorySwitchboard : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(InMemoryTransport, InMemoryTransport), Link> _links = [];
    private readonly TimeProvider _time;
    private int _transportCount;

    /// <summary>Creates a switchboard.</summary>
    /// <param name="timeProvider">The clock for link latency; <see langword="null"/> for the system clock.</param>
    public InMemorySwitchboard(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Creates a transport attached to this switchboard, for one network.</summary>
    /// <param name="name">A name for logs; defaults to <c>memory-N</c>.</param>
    /// <returns>The transport.</returns>
    public InMemoryTransport CreateTransport(string? name = null) =>
        new(this, name ?? $"memory-{Interlocked.Increment(ref _transportCount)}");

    /// <summary>Gets the number of links that currently carry a connection.</summary>
    public int ConnectedLinkCount
    {
        get
        {
            lock (_lock)
            {
                return _links.Values.Count(l => l.Connection is not null);
            }
        }
    }

    /// <summary>Links two transports and waits until both sides authenticated the connection.</summary>
    /// <param name="a">The transport that plays the client.</param>
    /// <param name="b">The transport that plays the server.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>A task that completes when the link is up.</returns>
    /// <exception cref="InvalidOperationException">A transport is not started, or the two are partitioned.</exception>
    /// <exception cref="PeerSessionClosedException">Negotiation or authentication failed.</exception>
    public async Task LinkAsync(InMemoryTransport a, InMemoryTransport b, CancellationToken cancellationToken = default)
    {
        Link link;
        lock (_lock)
        {
            link = GetOrCreate(a, b);
            link.Desired = true;
            if (link.Blocked)
            {
                throw new InvalidOperationException($"{a.Name} and {b.Name} are partitioned.");
            }
        }

        await ConnectAsync(link, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cuts the link between two transports, as if the cable were pulled: both sides see the connection fail.</summary>
    /// <param name="a">One transport.</param>
    /// <param name="b">The other transport.</param>
    /// <returns>A task that completes when both sessions ended.</returns>
    public async Task CutAsync(InMemoryTransport a, InMemoryTransport b)
    {
        Link? link;
        lock (_lock)
        {
            if (!_links.TryGetValue(Key(a, b), out link))
            {
                return;
            }

            link.Desired = false;
        }

        await DisconnectAsync(link).ConfigureAwait(false);
    }

    /// <summary>
    /// Splits the nodes in two: every link between a transport in <paramref name="side"/> and one outside it is cut and
    /// stays down until <see cref="HealAsync"/>.
    /// </summary>
    /// <param name="side">The transports on one side of the partition.</param>
    /// <returns>A task that completes when the crossing links are down.</returns>
    public async Task PartitionAsync(IEnumerable<InMemoryTransport> side)
    {
        ArgumentNullException.ThrowIfNull(side);
        var members = new HashSet<InMemoryTransport>(side);
        List<Link> crossing;
        lock (_lock)
        {
            crossing = [.. _links.Values.Where(l => members.Contains(l.A) != members.Contains(l.B))];
            foreach (Link link in crossing)
            {
                link.Blocked = true;
            }
        }

        await Task.WhenAll(crossing.Select(DisconnectAsync)).ConfigureAwait(false);
    }

    /// <summary>Ends every partition and reconnects the links it cut.</summary>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>A task that completes when the links are up again.</returns>
    public async Task HealAsync(CancellationToken cancellationToken = default)
    {
        List<Link> restore;
        lock (_lock)
        {
            restore = [.. _links.Values.Where(l => l.Blocked)];
            foreach (Link link in restore)
            {
                link.Blocked = false;
            }

            restore = [.. restore.Where(l => l.Desired)];
        }

        await Task.WhenAll(restore.Select(l => ConnectAsync(l, cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>Delays every frame on a link by <paramref name="oneWay"/> in each direction (so round trips take twice as long).</summary>
    /// <param name="a">One transport.</param>
    /// <param name="b">The other transport.</param>
    /// <param name="oneWay">The delay per direction; zero removes it.</param>
    public void SetLatency(InMemoryTransport a, InMemoryTransport b, TimeSpan oneWay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(oneWay, TimeSpan.Zero);
        lock (_lock)
        {
            GetOrCreate(a, b).Latency = oneWay;
        }
    }

    /// <summary>Drops a fraction of the DATA messages crossing a link (in both directions); other messages pass.</summary>
    /// <param name="a">One transport.</param>
    /// <param name="b">The other transport.</param>
    /// <param name="fraction">Between 0 (none) and 1 (all).</param>
    /// <param name="seed">Seed of the random choice, for repeatable tests.</param>
    public void SetDropRate(InMemoryTransport a, InMemoryTransport b, double fraction, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fraction, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fraction, 1);
        lock (_lock)
        {
            Link link = GetOrCreate(a, b);
            link.DropRate = fraction;
            link.Random = new Random(seed);
        }
    }

    /// <summary>Cuts every link.</summary>
    /// <returns>A task that completes when all links are down.</returns>
    public async ValueTask DisposeAsync()
    {
        List<Link> links;
        lock (_lock)
        {
            links = [.. _links.Values];
            foreach (Link link in links)
            {
                link.Desired = false;
            }
        }

        await Task.WhenAll(links.Select(DisconnectAsync)).ConfigureAwait(false);
    }

    private static (InMemoryTransport, InMemoryTransport) Key(InMemoryTransport a, InMemoryTransport b) =>
        a.Id < b.Id ? (a, b) : (b, a);

    private Link GetOrCreate(InMemoryTransport a, InMemoryTransport b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a == b || a.Switchboard != this || b.Switchboard != this)
        {
            throw new ArgumentException("Link two different transports of this switchboard.");
        }

        if (!_links.TryGetValue(Key(a, b), out Link? link))
        {
            _links[Key(a, b)] = link = new Link(a, b);
        }

        return link;
    }

    private async Task ConnectAsync(Link link, CancellationToken cancellationToken)
    {
        ITransportHost hostA = link.A.Host ?? throw new InvalidOperationException($"Transport {link.A.Name} is not started.");
        ITransportHost hostB = link.B.Host ?? throw new InvalidOperationException($"Transport {link.B.Name} is not started.");
        LinkConnection connection;
        lock (_lock)
        {
            if (link.Connection is not null)
            {
                return;
            }

            connection = new LinkConnection(link, _time);
            link.Connection = connection;
        }

        PeerSession client = hostA.CreateSession(connection.ClientEnd, PeerRole.Client, connectionName: $"{link.A.Name}->{link.B.Name}");
        PeerSession server = hostB.CreateSession(connection.ServerEnd, PeerRole.Server, connectionName: $"{link.B.Name}<-{link.A.Name}");
        connection.Sessions = [client, server];
        connection.Start();
        _ = ForgetWhenDoneAsync(link, connection);
        await Task.WhenAll(hostA.AttachAsync(client, cancellationToken), hostB.AttachAsync(server, cancellationToken)).ConfigureAwait(false);
    }

    private async Task ForgetWhenDoneAsync(Link link, LinkConnection connection)
    {
        await connection.Completion.ConfigureAwait(false);
        await Task.WhenAll(connection.Sessions.Select(s => s.Completion)).ConfigureAwait(false);
        lock (_lock)
        {
            if (link.Connection == connection)
            {
                link.Connection = null;
            }
        }

        connection.Dispose();
    }

    private async Task DisconnectAsync(Link link)
    {
        LinkConnection? connection = link.Connection;
        if (connection is not null)
        {
            await connection.CutAsync().ConfigureAwait(false);

            // Forget it now, not only when ForgetWhenDoneAsync gets to run: a LinkAsync right after the cut must connect again.
            lock (_lock)
            {
                if (link.Connection == connection)
                {
                    link.Connection = null;
                }
            }
        }
    }

    private sealed class Link(InMemoryTransport a, InMemoryTransport b)
    {
        public InMemoryTransport A { get; } = a;

        public InMemoryTransport B { get; } = b;

        public bool Desired { get; set; }

        public bool Blocked { get; set; }

        public TimeSpan Latency { get; set; }

        public double DropRate { get; set; }

        public Random Random { get; set; } = new(0);

        public LinkConnection? Connection { get; set; }

        public bool ShouldDrop(ReadOnlySpan<byte> frame)
        {
            // Frames of DATA start with their length header and then tag 2.
            int headerLength = (frame[0] & 0x1f) switch { < 24 => 1, 24 => 2, 25 => 3, _ => 5 };
            if (DropRate <= 0 || frame.Length <= headerLength || frame[headerLength] != (byte)PeerMessageType.Data)
            {
                return false;
            }

            lock (Random)
            {
                return Random.NextDouble() < DropRate;
            }
        }
    }

    /// <summary>One connection over a link: two session ends joined by two pumps that apply the link's faults.</summary>
    private sealed class LinkConnection : IDisposable
    {
        private readonly Link _link;
        private readonly TimeProvider _time;
        private readonly DuplexPipe _clientWire;
        private readonly DuplexPipe _serverWire;
        private readonly CancellationTokenSource _cut = new();
        private Task _completion = Task.CompletedTask;

        public LinkConnection(Link link, TimeProvider time)
        {
            _link = link;
            _time = time;
            (ClientEnd, _clientWire) = DuplexPipe.CreatePair();
            (ServerEnd, _serverWire) = DuplexPipe.CreatePair();
        }

        public DuplexPipe ClientEnd { get; }

        public DuplexPipe ServerEnd { get; }

        public PeerSession[] Sessions { get; set; } = [];

        public Task Completion => _completion;

        public void Dispose() => _cut.Dispose();

        public void Start()
        {
            _completion = Task.WhenAll(
                Task.Run(() => PumpAsync(_clientWire.Input, _serverWire.Output)),
                Task.Run(() => PumpAsync(_serverWire.Input, _clientWire.Output)));
        }

        public async Task CutAsync()
        {
            try
            {
                await _cut.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // Already finished.
            }

            await _completion.ConfigureAwait(false);
            await Task.WhenAll(Sessions.Select(s => s.Completion)).ConfigureAwait(false);
        }

        private async Task PumpAsync(PipeReader from, PipeWriter to)
        {
            var frames = Channel.CreateUnbounded<(long Due, byte[] Frame)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            Task deliver = DeliverAsync(frames.Reader, to);
            Exception? error = null;
            try
            {
                while (true)
                {
                    ReadResult result = await from.ReadAsync(_cut.Token).ConfigureAwait(false);
                    ReadOnlySequence<byte> buffer = result.Buffer;
                    while (TryTakeFrame(ref buffer, out byte[]? frame))
                    {
                        if (!_link.ShouldDrop(frame))
                        {
                            frames.Writer.TryWrite((_time.GetTimestamp() + (long)(_link.Latency.TotalSeconds * _time.TimestampFrequency), frame));
                        }
                    }

                    from.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted)
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                error = new IOException("The in-memory link was cut.");
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException)
            {
                error = ex;
            }

            frames.Writer.TryComplete(error);
            await from.CompleteAsync().ConfigureAwait(false);
            await deliver.ConfigureAwait(false);
        }

        private async Task DeliverAsync(ChannelReader<(long Due, byte[] Frame)> frames, PipeWriter to)
        {
            Exception? error = null;
            try
            {
                await foreach ((long due, byte[] frame) in frames.ReadAllAsync(_cut.Token).ConfigureAwait(false))
                {
                    TimeSpan wait = _time.GetElapsedTime(_time.GetTimestamp(), due);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, _time, _cut.Token).ConfigureAwait(false);
                    }

                    FlushResult flushed = await to.WriteAsync(frame, _cut.Token).ConfigureAwait(false);
                    if (flushed.IsCompleted)
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                error = new IOException("The in-memory link was cut.");
            }
            catch (Exception ex) when (ex is ChannelClosedException or IOException or InvalidOperationException)
            {
                error = ex.InnerException as IOException ?? ex;
            }

            await to.CompleteAsync(error).ConfigureAwait(false);
        }

        // Whole frames only, so a dropped message never leaves half a frame behind. The sessions enforce their
        // own frame limits; the pump only needs the boundaries.
        private static bool TryTakeFrame(ref ReadOnlySequence<byte> buffer, [NotNullWhen(true)] out byte[]? frame)
        {
            frame = null;
            ReadOnlySequence<byte> start = buffer;
            try
            {
                if (!PeerMessageCodec.TryReadFrame(ref buffer, PeerMessageCodec.MaxEncodableFrameLength, out ReadOnlySequence<byte> message))
                {
                    return false;
                }

                frame = start.Slice(0, message.End).ToArray();
                return true;
            }
            catch (ProtocolException)
            {
                // Not a frame: pass the bytes through untouched and let the receiving session judge them.
                frame = start.ToArray();
                buffer = start.Slice(start.End);
                return true;
            }
        }
    }
}
