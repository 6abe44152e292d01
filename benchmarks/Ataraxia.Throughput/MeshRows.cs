using System.Diagnostics;
using System.Globalization;
using System.Net;
using Ataraxia.Tcp;
using Ataraxia.Transport;

namespace Ataraxia.Throughput;

/// <summary>Mesh convergence time and memory for large in-memory meshes, and idle memory per connected peer.</summary>
public static class MeshRows
{
    private const int Seed = 20240601;
    private const double AverageDegree = 3.5;
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(120);

    public static async Task RunAsync(RunContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Report report = context.Report;

        // The idle rows run first, on a fresh heap, so that what the large meshes leave behind does not blur them.
        // A first star of the full size pays the one-time costs outside the measurement: TLS and certificate set-up,
        // JIT, and the shared buffer pools, which keep what the concurrent handshakes rented.
        int clients = context.Quick ? 40 : 100;
        await MeasureStarAsync(clients, tls: true);
        await MeasureStarAsync(clients, tls: false);
        Row idleTls = await IdlePerPeerAsync(clients, tls: true);
        Row idlePlain = await IdlePerPeerAsync(clients, tls: false);
        foreach (Row row in await ConvergeAsync(100, TimeSpan.FromSeconds(2)))
        {
            report.Add(row);
        }

        // About a minute with set-up and tear-down, so --quick leaves it out.
        if (context.Quick)
        {
            await Console.Error.WriteLineAsync("  converge, 1,000 in-memory nodes: left out with --quick.");
        }
        else
        {
            foreach (Row row in await ConvergeAsync(1000, TimeSpan.FromSeconds(30)))
            {
                report.Add(row);
            }
        }

        report.Add(idleTls);
        report.Add(idlePlain);
    }

    /// <summary>
    /// A random partial mesh of <paramref name="count"/> in-memory nodes: a random spanning tree plus random extra
    /// edges up to an average degree of <see cref="AverageDegree"/>. All nodes join first, then every edge is linked
    /// at once; the time runs from the first link until every node sees every other node.
    /// </summary>
    private static async Task<Row[]> ConvergeAsync(int count, TimeSpan target)
    {
        string id = $"converge-{count}";
        string name = $"converge, {count:N0} in-memory nodes";
        List<(int A, int B)> edges = RandomMesh(count, new Random(Seed + count));
        long before = ManagedMemory();

        var switchboard = new InMemorySwitchboard();
        var networks = new Network[count];
        var transports = new InMemoryTransport[count];
        int[] visible = new int[count];
        for (int i = 0; i < count; i++)
        {
            transports[i] = switchboard.CreateTransport($"n{i}");
            networks[i] = new Network(new NetworkOptions { Name = "bench-mesh", Transports = [transports[i]] });
            int index = i;
            networks[i].NodeAvailable += (_, _) => Interlocked.Increment(ref visible[index]);
            networks[i].NodeUnavailable += (_, _) => Interlocked.Decrement(ref visible[index]);
        }

        await Task.WhenAll(networks.Select(n => n.JoinAsync().AsTask()));
        long joined = ManagedMemory();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        TimeSpan cpuBefore = ProcessorTime();
        int gen2Before = GC.CollectionCount(2);
        int gen0Before = GC.CollectionCount(0);
        TimeSpan pausedBefore = GC.GetTotalPauseDuration();

        var watch = Stopwatch.StartNew();
        Task links = Task.WhenAll(edges.Select(e => switchboard.LinkAsync(transports[e.A], transports[e.B])));
        TimeSpan? converged = null;
        TimeSpan linked = TimeSpan.Zero;
        while (watch.Elapsed < ConvergeTimeout)
        {
            if (links.IsCompleted && linked == TimeSpan.Zero)
            {
                await links; // surfaces a failed link
                linked = watch.Elapsed;
            }

            // The event counters are a cheap gate; the tables themselves are the proof.
            if (AllSee(visible, count - 1) && networks.All(n => n.Nodes.Count == count - 1))
            {
                converged = watch.Elapsed;
                break;
            }

            await Task.Delay(5);
        }

        if (converged is null)
        {
            // Let the links finish (or fail) before the tear-down cuts them.
            await links.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        double cpu = (ProcessorTime() - cpuBefore).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        int gen0 = GC.CollectionCount(0) - gen0Before;
        int gen2 = GC.CollectionCount(2) - gen2Before;
        double paused = (GC.GetTotalPauseDuration() - pausedBefore).TotalSeconds;
        int done = networks.Count(n => n.Nodes.Count == count - 1);
        long after = ManagedMemory();
        double perNode = (after - before) / 1024.0 / count;
        double joinedPerNode = (joined - before) / 1024.0 / count;

        await Task.WhenAll(networks.Select(n => n.DisposeAsync().AsTask()));
        await switchboard.DisposeAsync();
        networks = [];
        transports = [];
        GC.Collect();

        string shape = string.Create(CultureInfo.InvariantCulture, $"{edges.Count:N0} links (random spanning tree + random extra edges, average degree {2.0 * edges.Count / count:0.##}, seed {Seed + count})");
        string effort = string.Create(CultureInfo.InvariantCulture, $"{cpu:0.#} s CPU on {Environment.ProcessorCount} cores, {allocated / 1e6:N0} MB allocated, {gen0} GCs of which {gen2} full, pausing {paused:0.#} s");
        var time = new Row
        {
            Id = id,
            Name = name,
            Value = converged?.TotalSeconds,
            Unit = "s",
            Target = string.Create(CultureInfo.InvariantCulture, $"≤ {target.TotalSeconds:0} s"),
            Met = converged is TimeSpan t && t <= target,
            Note = converged is null
                ? string.Create(CultureInfo.InvariantCulture, $"timed out after {ConvergeTimeout.TotalSeconds:0} s with {done} of {count} nodes seeing all others; {shape}; {effort}")
                : string.Create(CultureInfo.InvariantCulture, $"{shape}, all linked after {linked.TotalSeconds:0.##} s; until every node sees all {count - 1:N0} others; {effort}"),
        };
        var memory = new Row
        {
            Id = $"mem-{count}",
            Name = $"managed memory per node, {count:N0} converged nodes",
            Value = perNode,
            Unit = "KiB",
            Note = string.Create(CultureInfo.InvariantCulture, $"GC.GetTotalMemory(true) {(converged is null ? "at the time-out (not converged)" : "after convergence")} minus before creating the nodes, / {count}: {joinedPerNode:N1} KiB per joined, unlinked node, the rest is links (both in-memory ends and their pipes) and the topology tables of {count} nodes each knowing {count - 1} others"),
        };
        return [time, memory];
    }

    /// <summary>A random spanning tree plus random extra edges, without duplicates, for the given average degree.</summary>
    public static List<(int A, int B)> RandomMesh(int count, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        int[] order = [.. Enumerable.Range(0, count)];
        random.Shuffle(order);
        var edges = new List<(int A, int B)>();
        var seen = new HashSet<(int, int)>();
        for (int i = 1; i < count; i++)
        {
            Add(order[i], order[random.Next(i)]);
        }

        int total = (int)Math.Round(count * AverageDegree / 2);
        while (edges.Count < total && edges.Count < (long)count * (count - 1) / 2)
        {
            Add(random.Next(count), random.Next(count));
        }

        return edges;

        void Add(int a, int b)
        {
            if (a != b && seen.Add((Math.Min(a, b), Math.Max(a, b))))
            {
                edges.Add((a, b));
            }
        }
    }

    /// <summary>
    /// Idle memory per connection end: a star of one hub and <paramref name="clients"/> clients over TCP, measured
    /// joined but not connected, then connected and idle. Both ends of every connection live in this process.
    /// </summary>
    /// <remarks>
    /// Besides the connections, every node of a star learns about every other node, so the growth has a part per
    /// connection end and a part per node known to a node. A second, smaller star separates the two:
    /// M(n) = 2n·c + n(n + 1)·t for n clients.
    /// </remarks>
    private static async Task<Row> IdlePerPeerAsync(int clients, bool tls)
    {
        string mode = tls ? "TLS" : "plaintext";
        Star small = await MeasureStarAsync(clients / 4, tls);
        Star large = await MeasureStarAsync(clients, tls);
        string? failure = large.Failure ?? small.Failure;
        double perEnd = large.Managed / 1024.0 / (2 * clients);
        double known = ((large.Managed / (double)large.Clients) - (small.Managed / (double)small.Clients)) / (large.Clients - small.Clients);
        double connection = ((small.Managed / (double)small.Clients) - ((small.Clients + 1) * known)) / 2 / 1024;
        double workingPerEnd = large.WorkingSet / 1024.0 / (2 * clients);
        // What one more directly connected peer costs a node: its connection end plus its entry in the node's tables.
        double perPeer = connection + (known / 1024);
        bool valid = failure is null && connection > 0 && known > 0;
        return new Row
        {
            Id = tls ? "idle-per-peer" : "idle-per-peer-plain",
            Name = $"idle memory per connected peer, TCP {mode}",
            Value = valid ? perPeer : null,
            Unit = "KiB",
            Target = tls ? "≤ 64 KiB" : null,
            Met = tls ? valid && perPeer <= 64 : null,
            Note = failure ?? string.Create(
                CultureInfo.InvariantCulture,
                $"managed heap (GC.GetTotalMemory(true)) of stars of one hub and {small.Clients} and {clients} clients on 127.0.0.1, connected and idle for 2 s, minus the same nodes joined but not connected. Fitted: {connection:N1} KiB per connection end plus {known:N0} B per node a node knows; the value is one of each. Every node of a star learns all others, so the whole {clients}-client star grew by {perEnd:N1} KiB per connection end. Process working set grew {workingPerEnd:N0} KiB per end (native TLS state and socket buffers included; noisy)"),
        };
    }

    private static async Task<Star> MeasureStarAsync(int clients, bool tls)
    {
        var hubTransport = new TcpTransport(new TcpTransportOptions
        {
            BindAddresses = [IPAddress.Loopback],
            Tls = tls ? new TcpTlsOptions() : null,
            MaxPendingConnections = clients + 1,
        });
        var hub = new Network(new NetworkOptions { Name = "bench-idle", Transports = [hubTransport] });
        await hub.JoinAsync();
        var transports = new TcpTransport[clients];
        var nodes = new Network[clients];
        for (int i = 0; i < clients; i++)
        {
            transports[i] = new TcpTransport(new TcpTransportOptions { Listen = false, Tls = tls ? new TcpTlsOptions() : null });
            nodes[i] = new Network(new NetworkOptions { Name = "bench-idle", Transports = [transports[i]] });
        }

        await Task.WhenAll(nodes.Select(n => n.JoinAsync().AsTask()));
        await Task.Delay(500);
        long joined = ManagedMemory();
        long workingJoined = WorkingSet();

        foreach (TcpTransport transport in transports)
        {
            transport.AddPeer("127.0.0.1", hubTransport.Port);
        }

        string? failure = null;
        try
        {
            // Connected, and the star's topology settled: every client sees the hub and every other client.
            await TcpRows.WaitUntilAsync(() => hub.Nodes.Count == clients && nodes.All(n => n.Nodes.Count == clients), TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            failure = $"timed out: the hub sees {hub.Nodes.Count} of {clients} clients";
        }

        // Idle: well past the broadcast delay and the exchange of summaries, before the first latency gossip (30 s).
        await Task.Delay(2000);
        long connected = ManagedMemory();
        long workingConnected = WorkingSet();

        await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
        await hub.DisposeAsync();
        foreach (TcpTransport transport in transports)
        {
            await transport.DisposeAsync();
        }

        await hubTransport.DisposeAsync();
        return new Star(clients, connected - joined, workingConnected - workingJoined, failure);
    }

    private static long ManagedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static bool AllSee(int[] visible, int expected)
    {
        for (int i = 0; i < visible.Length; i++)
        {
            if (Volatile.Read(ref visible[i]) != expected)
            {
                return false;
            }
        }

        return true;
    }

    private static TimeSpan ProcessorTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static long WorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    /// <summary>What a star of one hub and some clients added when connected: managed bytes, working set bytes.</summary>
    private sealed record Star(int Clients, long Managed, long WorkingSet, string? Failure);
}
