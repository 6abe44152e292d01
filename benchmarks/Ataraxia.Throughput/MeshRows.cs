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
        // A first, unreported run pays the one-time costs outside the measurement: TLS and certificate set-up, JIT,
        // and the shared buffer pools, which keep what the concurrent handshakes rented.
        int clients = context.Quick ? 40 : 100;
        await IdlePerPeerAsync(clients, tls: true);
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
    /// Idle memory per connected peer: a hub in this process and <paramref name="clients"/> clients in a child process
    /// connecting to it over TCP. The hub's managed heap connected and idle, minus the hub joined alone, divided by
    /// the number of peers: what one more directly connected peer costs a node (its connection and its entry in the
    /// node's tables), with nothing of the peers' own side in the measurement.
    /// </summary>
    private static async Task<Row> IdlePerPeerAsync(int clients, bool tls)
    {
        string mode = tls ? "TLS" : "plaintext";
        string id = tls ? "idle-per-peer" : "idle-per-peer-plain";
        string name = $"idle memory per connected peer, TCP {mode}";
        var hubTransport = new TcpTransport(new TcpTransportOptions
        {
            BindAddresses = [IPAddress.Loopback],
            Tls = tls ? new TcpTlsOptions() : null,
            MaxPendingConnections = clients + 1,
        });
        var hub = new Network(new NetworkOptions { Name = "bench-idle", Transports = [hubTransport] });
        await hub.JoinAsync();
        await Task.Delay(500);
        long alone = ManagedMemory();
        long workingAlone = WorkingSet();

        using var child = new Process
        {
            StartInfo = new ProcessStartInfo(Environment.ProcessPath!)
            {
                ArgumentList = { "--idle-clients", clients.ToString(CultureInfo.InvariantCulture), hubTransport.Port.ToString(CultureInfo.InvariantCulture), tls ? "tls" : "plain" },
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            },
        };
        child.Start();
        _ = child.StandardOutput.ReadToEndAsync();
        Task<string> errors = child.StandardError.ReadToEndAsync();
        string? failure = null;
        long connected = 0;
        long workingConnected = 0;
        try
        {
            await TcpRows.WaitUntilAsync(() => hub.Nodes.Count == clients || child.HasExited, TimeSpan.FromSeconds(60));
            if (hub.Nodes.Count != clients)
            {
                failure = $"the client process ended early: {await errors}";
            }
            else
            {
                // Idle: past the broadcast delay and the exchange of summaries, before the first latency gossip (30 s).
                await Task.Delay(2000);
                connected = ManagedMemory();
                workingConnected = WorkingSet();
            }
        }
        catch (TimeoutException)
        {
            failure = $"timed out: the hub sees {hub.Nodes.Count} of {clients} clients";
        }
        finally
        {
            child.StandardInput.Close();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await child.WaitForExitAsync(exit.Token);
            }
            catch (OperationCanceledException)
            {
                child.Kill(entireProcessTree: true);
            }

            await hub.DisposeAsync();
            await hubTransport.DisposeAsync();
        }

        double perPeer = (connected - alone) / 1024.0 / clients;
        return new Row
        {
            Id = id,
            Name = name,
            Value = failure is null ? perPeer : null,
            Unit = "KiB",
            Target = tls ? "≤ 64 KiB" : null,
            Met = tls ? failure is null && perPeer <= 64 : null,
            Note = failure ?? string.Create(
                CultureInfo.InvariantCulture,
                $"one hub in this process, {clients} clients in a child process; the hub's managed heap (GC.GetTotalMemory after full collections) connected and idle for 2 s, minus the hub joined alone, / {clients}: each peer's connection end and its node entry. Process working set grew {(workingConnected - workingAlone) / 1024.0 / clients:N0} KiB per peer (native TLS state and socket buffers included; noisy)"),
        };
    }

    /// <summary>
    /// The child process of <see cref="IdlePerPeerAsync"/>: <paramref name="clients"/> nodes connecting to the hub at
    /// <paramref name="port"/>, until standard input closes.
    /// </summary>
    public static async Task<int> RunIdleClientsAsync(int clients, int port, bool tls)
    {
        var nodes = new Network[clients];
        for (int i = 0; i < clients; i++)
        {
            var transport = new TcpTransport(new TcpTransportOptions
            {
                Listen = false,
                Tls = tls ? new TcpTlsOptions() : null,
                Peers = [new DnsEndPoint("127.0.0.1", port)],
            });
            nodes[i] = new Network(new NetworkOptions { Name = "bench-idle", Transports = [transport] });
            await nodes[i].JoinAsync();
        }

        await Console.In.ReadToEndAsync();
        foreach (Network node in nodes)
        {
            await node.DisposeAsync();
        }

        return 0;
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

}
