using Ataraxia.Testing;

namespace Ataraxia.Local.Tests;

/// <summary>
/// The leader pattern end to end: two network namespaces as two machines, three processes each, the machine-local
/// transport on every process and TCP only on each machine's leader (added when it becomes leader).
/// </summary>
[Trait("Category", "Integration")]
public sealed class LeaderPatternTests
{
    private const int TcpPort = 7471;

    [NamespaceFact]
    public async Task Leaders_join_two_machines_over_tcp_and_a_new_leader_takes_over_when_one_dies()
    {
        await using NetworkNamespaces lan = await NetworkNamespaces.CreateAsync(2);
        var nodes = new List<LocalNodeProcess>();
        var paths = new List<string>();
        try
        {
            for (int machine = 0; machine < 2; machine++)
            {
                NamespaceHost host = lan.Hosts[machine];
                NamespaceHost other = lan.Hosts[1 - machine];

                // Namespaces share the file system: each machine gets its own rendezvous.
                string path = Path.Combine(Path.GetTempPath(), $"atx-leader-{Guid.NewGuid():N}"[..24]);
                paths.Add(path);
                for (int i = 0; i < 3; i++)
                {
                    nodes.Add(LocalNodeProcess.StartIn(
                        host,
                        $"m{machine}p{i}",
                        path,
                        "--tcp-when-leader", TcpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        "--tcp-bind", host.Address.ToString(),
                        "--tcp-peer", $"{other.Address}:{TcpPort}"));
                }
            }

            await Task.WhenAll(nodes.Select(n => n.WaitReadyAsync()));
            await TaskTimeoutExtensions.WaitUntilAsync(() => nodes.All(n => n.SeesExactly(nodes)), TimeSpan.FromSeconds(30));
            Assert.Equal(1, nodes.Take(3).Count(n => n.IsLeader));
            Assert.Equal(1, nodes.Skip(3).Count(n => n.IsLeader));

            // Kill machine 0's leader: another process there leads, opens TCP, and the five survivors see each other.
            LocalNodeProcess leader = nodes.Take(3).Single(n => n.IsLeader);
            await leader.KillAsync();
            List<LocalNodeProcess> survivors = [.. nodes.Where(n => n != leader)];
            await TaskTimeoutExtensions.WaitUntilAsync(
                () => survivors.Take(2).Count(n => n.IsLeader) == 1 && survivors.All(n => n.SeesExactly(survivors)),
                TimeSpan.FromSeconds(30));
            Assert.All(survivors, n => Assert.Empty(n.Errors));
        }
        finally
        {
            foreach (LocalNodeProcess node in nodes)
            {
                await node.DisposeAsync();
            }

            // The rendezvous socket and the leader's lock file stay behind otherwise.
            foreach (string path in paths)
            {
                File.Delete(path);
                File.Delete(path + ".leader");
            }
        }
    }
}
