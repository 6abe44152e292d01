using System.Globalization;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests.MultiHost;

/// <summary>The namespace fixture keeps to its own namespaces and leaves nothing behind.</summary>
[Trait("Category", "Integration")]
public sealed class NetworkNamespacesTests
{
    [NamespaceFact]
    public async Task Namespaces_get_addresses_on_a_private_bridge_and_are_deleted_on_dispose()
    {
        NetworkNamespaces lan = await NetworkNamespaces.CreateAsync(2);
        try
        {
            Assert.Equal([$"{lan.Id}-1", $"{lan.Id}-2"], lan.Hosts.Select(h => h.Namespace));
            Assert.Equal($"{lan.Subnet}.2", lan.Hosts[1].Address.ToString());
            foreach (NamespaceHost host in lan.Hosts)
            {
                string links = await NetworkNamespaces.IpAsync("-n", host.Namespace, "-o", "link");
                Assert.Contains("eth0@", links, StringComparison.Ordinal);
                Assert.Contains("MULTICAST,UP,LOWER_UP", links, StringComparison.Ordinal);
                string routes = await NetworkNamespaces.IpAsync("-n", host.Namespace, "route");
                Assert.Contains("224.0.0.0/4 dev eth0", routes, StringComparison.Ordinal);
            }

            // The host's own namespace holds no end of the test's cables: both ends of every veth are in test namespaces.
            Assert.DoesNotContain(lan.Id, await NetworkNamespaces.IpAsync("-o", "link"), StringComparison.Ordinal);
            Assert.Contains($"link-netns {lan.Hosts[0].Namespace}", await NetworkNamespaces.IpAsync("-n", lan.SwitchNamespace, "-o", "link"), StringComparison.Ordinal);
        }
        finally
        {
            await lan.DisposeAsync();
        }

        string namespaces = await NetworkNamespaces.IpAsync("netns", "list");
        Assert.DoesNotContain(lan.Id, namespaces, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(NetworkNamespaces.OwnerDirectory, lan.Id)));
        await lan.DisposeAsync(); // idempotent
    }

    [NamespaceFact]
    public async Task Cutting_a_link_takes_the_switch_port_down_and_restoring_brings_it_back()
    {
        await using NetworkNamespaces lan = await NetworkNamespaces.CreateAsync(1);
        NamespaceHost host = lan.Hosts[0];

        await host.CutLinkAsync();
        Assert.Contains("state DOWN", await NetworkNamespaces.IpAsync("-n", lan.SwitchNamespace, "link", "show", host.SwitchPort), StringComparison.Ordinal);
        await host.RestoreLinkAsync();
        Assert.DoesNotContain("state DOWN", await NetworkNamespaces.IpAsync("-n", lan.SwitchNamespace, "link", "show", host.SwitchPort), StringComparison.Ordinal);
    }

    [NamespaceFact]
    public async Task Namespaces_whose_test_process_died_are_cleaned_up_with_what_runs_in_them()
    {
        // What a crashed run leaves: a namespace, a process inside it, and an owner file naming a process that is gone.
        string id = $"{NetworkNamespaces.NamePrefix}{Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))}";
        string name = $"{id}-1";
        await NetworkNamespaces.IpAsync("netns", "add", name);
        LineProcess? sleeper = null;
        try
        {
            Directory.CreateDirectory(NetworkNamespaces.OwnerDirectory);
            await File.WriteAllTextAsync(Path.Combine(NetworkNamespaces.OwnerDirectory, id), string.Create(CultureInfo.InvariantCulture, $"{int.MaxValue} 1"));
            sleeper = LineProcess.Start("sleep", "ip", ["netns", "exec", name, "sleep", "60"]);

            // Only once the sleeper runs inside the namespace is there something to clean up with it.
            var entering = System.Diagnostics.Stopwatch.StartNew();
            while ((await NetworkNamespaces.IpAsync("netns", "pids", name)).Trim().Length == 0)
            {
                Assert.True(entering.Elapsed < TimeSpan.FromSeconds(10), "The sleeper did not enter its namespace within 10 s.");
            }

            await NetworkNamespaces.CleanUpStaleAsync();

            Assert.DoesNotContain(name, await NetworkNamespaces.IpAsync("netns", "list"), StringComparison.Ordinal);
            await sleeper.WaitForExitAsync();
            Assert.False(File.Exists(Path.Combine(NetworkNamespaces.OwnerDirectory, id)));
        }
        finally
        {
            if (sleeper is not null)
            {
                await sleeper.DisposeAsync();
            }

            if (File.Exists($"/run/netns/{name}"))
            {
                await NetworkNamespaces.IpAsync("netns", "delete", name);
            }
        }
    }
}
