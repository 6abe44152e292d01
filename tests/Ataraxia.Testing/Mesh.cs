using System.Diagnostics;
using System.Runtime.CompilerServices;
using Ataraxia.Transport;
using Xunit;

namespace Ataraxia.Testing;

/// <summary>A set of networks joined through one in-memory switchboard, addressed by index.</summary>
public sealed class Mesh : IAsyncDisposable
{
    private Mesh(InMemorySwitchboard switchboard, List<Network> networks, List<InMemoryTransport> transports, TestLoggerFactory logs)
    {
        Logs = logs;
        Switchboard = switchboard;
        Networks = networks;
        Transports = transports;
    }

    public InMemorySwitchboard Switchboard { get; }

    /// <summary>Gets what all the networks logged; a mesh that logged an error fails the test when disposed.</summary>
    public TestLoggerFactory Logs { get; }

    public IReadOnlyList<Network> Networks { get; }

    public IReadOnlyList<InMemoryTransport> Transports { get; }

    public Network this[int index] => Networks[index];

    public int Count => Networks.Count;

    public static async Task<Mesh> CreateAsync(int count, Func<int, NetworkOptions, NetworkOptions>? configure = null, string name = "test")
    {
        var switchboard = new InMemorySwitchboard();
        var logs = new TestLoggerFactory();
        var networks = new List<Network>(count);
        var transports = new List<InMemoryTransport>(count);
        for (int i = 0; i < count; i++)
        {
            InMemoryTransport transport = switchboard.CreateTransport($"n{i}");
            var options = new NetworkOptions { Name = name, Transports = [transport], LoggerFactory = logs };
            networks.Add(new Network(configure is null ? options : configure(i, options)));
            transports.Add(transport);
        }

        await Task.WhenAll(networks.Select(n => n.JoinAsync().AsTask()));
        return new Mesh(switchboard, networks, transports, logs);
    }

    public Task LinkAsync(int a, int b) => Switchboard.LinkAsync(Transports[a], Transports[b]).DefaultTimeout();

    public Task LinkAllAsync(IEnumerable<(int A, int B)> edges) => Task.WhenAll(edges.Select(e => LinkAsync(e.A, e.B)));

    public Task CutAsync(int a, int b) => Switchboard.CutAsync(Transports[a], Transports[b]).DefaultTimeout();

    public Task PartitionAsync(IEnumerable<int> side) => Switchboard.PartitionAsync(side.Select(i => Transports[i])).DefaultTimeout();

    public Task HealAsync() => Switchboard.HealAsync().DefaultTimeout();

    public int IndexOf(NodeId id)
    {
        for (int i = 0; i < Networks.Count; i++)
        {
            if (Networks[i].Id == id)
            {
                return i;
            }
        }

        return -1;
    }

    public bool Sees(int observer, int other) => Networks[observer].TryGetNode(Networks[other].Id, out _);

    /// <summary>Waits until every listed node sees every other listed node (all nodes when none are listed).</summary>
    public async Task<TimeSpan> WaitForVisibilityAsync(IReadOnlyCollection<int>? group = null, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        int[] members = [.. group ?? Enumerable.Range(0, Count)];
        var watch = Stopwatch.StartNew();
        await TaskTimeoutExtensions.WaitUntilAsync(() => members.All(a => members.All(b => a == b || Sees(a, b))), timeout, file, line);
        return watch.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Networks.Select(n => n.DisposeAsync().AsTask()));
        await Switchboard.DisposeAsync();
        Assert.Empty(Logs.Errors);
    }
}
