using System.Diagnostics;
using System.Globalization;
using Ataraxia.Testing;

namespace Ataraxia.Local.Tests;

/// <summary>
/// Many processes on one machine, each with its own <see cref="Network"/> and a <see cref="MachineLocalTransport"/>
/// at one rendezvous path: exactly one leads, all see each other, and a killed leader is replaced.
/// </summary>
[Trait("Category", "Integration")]
public sealed class LeaderElectionTests : IAsyncLifetime
{
    private readonly List<LocalNodeProcess> _processes = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "atx-" + Guid.NewGuid().ToString("N")[..10]);
    private int _paths;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(_processes.Select(p => p.DisposeAsync().AsTask()));
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Five_processes_elect_exactly_one_leader_and_all_see_each_other()
    {
        string path = NewPath();
        LocalNodeProcess[] nodes = await StartAsync(path, 5);

        await WaitUntilMeshAsync(nodes);
        Assert.Single(nodes, n => n.IsLeader);
        Assert.Single(nodes, n => n.WasEverLeader);
        if (!OperatingSystem.IsWindows())
        {
            // Only the user's own processes may connect.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path + ".leader"));
        }

        AssertNoErrors(nodes);
    }

    [Fact]
    public async Task Killing_the_leader_elects_a_new_one_within_two_seconds_and_the_survivors_see_each_other_again()
    {
        string path = NewPath();
        LocalNodeProcess[] nodes = await StartAsync(path, 5);
        await WaitUntilMeshAsync(nodes);
        LocalNodeProcess leader = Assert.Single(nodes, n => n.IsLeader);
        LocalNodeProcess[] survivors = [.. nodes.Where(n => n != leader)];

        await leader.KillAsync();
        var clock = Stopwatch.StartNew();
        await TaskTimeoutExtensions.WaitUntilAsync(() => survivors.Any(n => n.IsLeader), TimeSpan.FromSeconds(2));
        TimeSpan elected = clock.Elapsed;
        await WaitUntilMeshAsync(survivors);

        Assert.True(elected < TimeSpan.FromSeconds(2), $"New leader after {elected}.");
        Assert.Single(survivors, n => n.IsLeader);
        Assert.Single(survivors, n => n.WasEverLeader);
        AssertNoErrors(survivors);
    }

    [Fact]
    public async Task A_leader_that_leaves_gracefully_hands_over_and_reports_losing_leadership()
    {
        string path = NewPath();
        LocalNodeProcess[] nodes = await StartAsync(path, 3);
        await WaitUntilMeshAsync(nodes);
        LocalNodeProcess leader = Assert.Single(nodes, n => n.IsLeader);
        LocalNodeProcess[] survivors = [.. nodes.Where(n => n != leader)];

        await leader.Process.CloseInputAsync();
        await leader.Process.WaitForExitAsync();
        await WaitUntilMeshAsync(survivors);

        Assert.False(leader.IsLeader);
        Assert.Equal(0, leader.Process.ExitCode);
        Assert.Single(survivors, n => n.IsLeader);
        AssertNoErrors(nodes);
    }

    [Fact]
    public async Task Ten_processes_started_at_the_same_instant_elect_exactly_one_leader_every_time()
    {
        // 20 rounds, as the issue asks (about 25 s on two cores); ATARAXIA_LOCAL_ROUNDS changes it.
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("ATARAXIA_LOCAL_ROUNDS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) ? r : 20;
        for (int round = 0; round < rounds; round++)
        {
            string path = NewPath();
            LocalNodeProcess[] nodes = [.. Enumerable.Range(0, 10).Select(i => Track(LocalNodeProcess.Start($"r{round}n{i}", path, waitForGo: true)))];
            await Task.WhenAll(nodes.Select(n => n.Process.WaitForTextAsync("\"event\":\"started\"")));

            // Every process is up and waiting: release them together so they race for the lock.
            await Task.WhenAll(nodes.Select(n => n.Process.WriteLineAsync("go")));
            await Task.WhenAll(nodes.Select(n => n.WaitReadyAsync()));
            await WaitUntilMeshAsync(nodes);

            Assert.Single(nodes, n => n.IsLeader);
            Assert.Single(nodes, n => n.WasEverLeader);
            AssertNoErrors(nodes);
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task A_stale_socket_file_left_by_a_killed_leader_does_not_block_the_next_election()
    {
        string path = NewPath();
        LocalNodeProcess first = Track(LocalNodeProcess.Start("first", path));
        await TaskTimeoutExtensions.WaitUntilAsync(() => first.IsLeader);
        await first.KillAsync();
        Assert.True(File.Exists(path), "The killed leader's socket file should still be there.");

        LocalNodeProcess[] next = await StartAsync(path, 2);
        await WaitUntilMeshAsync(next);

        Assert.Single(next, n => n.IsLeader);
        AssertNoErrors(next);
    }

    private string NewPath() => Path.Combine(_directory, "m" + Interlocked.Increment(ref _paths).ToString(CultureInfo.InvariantCulture));

    private LocalNodeProcess Track(LocalNodeProcess process)
    {
        lock (_processes)
        {
            _processes.Add(process);
        }

        return process;
    }

    private async Task<LocalNodeProcess[]> StartAsync(string path, int count)
    {
        LocalNodeProcess[] nodes = [.. Enumerable.Range(0, count).Select(i => Track(LocalNodeProcess.Start($"node{_processes.Count}", path)))];
        await Task.WhenAll(nodes.Select(n => n.WaitReadyAsync()));
        return nodes;
    }

    // Exactly one leader now, and every node sees exactly the others.
    private static async Task WaitUntilMeshAsync(IReadOnlyList<LocalNodeProcess> nodes)
    {
        try
        {
            await TaskTimeoutExtensions.WaitUntilAsync(() =>
                nodes.Count(n => n.IsLeader) == 1 && nodes.All(n => n.Id is not null && n.SeesExactly(nodes)));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n{string.Join("\n", nodes.Select(n => n.Process.Transcript(30)))}", ex);
        }
    }

    private static void AssertNoErrors(IEnumerable<LocalNodeProcess> nodes) =>
        Assert.Empty(nodes.SelectMany(n => n.Errors));
}
