using System.Net;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests.MultiHost;

/// <summary>
/// The third-party responder harness: avahi in two test namespaces finds what the other publishes, over IPv4 and
/// IPv6, on the test bridge only. The tests of our responder and browser against avahi stand on it.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AvahiTests
{
    [AvahiFact]
    public async Task Avahi_in_one_namespace_resolves_a_service_avahi_publishes_in_another()
    {
        await using NetworkNamespaces lan = await NetworkNamespaces.CreateAsync(2);
        NamespaceHost publishingHost = lan.Hosts[0];
        await using AvahiDaemon publisher = await AvahiDaemon.StartAsync(publishingHost);
        await using AvahiDaemon browser = await AvahiDaemon.StartAsync(lan.Hosts[1]);
        IPAddress[] publisherAddresses = [publishingHost.Address, .. publishingHost.LinkLocalAddress is { } ll ? [ll] : Array.Empty<IPAddress>()];

        await publisher.PublishAsync("test-service", "_atxtest._tcp", 4242, "key=value", "flag");
        LineProcess browse = browser.Browse("_atxtest._tcp");

        // Found over each protocol the LAN has (avahi-browse's third field). The address it resolves to may be of
        // either family, whichever answer came first.
        string[] protocols = publishingHost.LinkLocalAddress is null ? ["IPv4"] : ["IPv4", "IPv6"];
        foreach (string protocol in protocols)
        {
            AvahiService service = await AvahiDaemon.WaitForServiceAsync(browse, s => s.Name == "test-service" && s.Protocol == protocol);
            Assert.Equal(("eth0", "_atxtest._tcp", "local", $"{publisher.HostName}.local"), (service.Interface, service.Type, service.Domain, service.HostName));
            Assert.Contains(service.Address, publisherAddresses);
            Assert.Equal(4242, service.Port);
            Assert.Equal(["flag", "key=value"], service.Txt.Order(StringComparer.Ordinal));
        }

        // The host's A and AAAA records.
        Assert.Equal(publishingHost.Address, await browser.ResolveHostAsync($"{publisher.HostName}.local", ipv6: false));
        if (publishingHost.LinkLocalAddress is { } linkLocal)
        {
            Assert.Equal(linkLocal, await browser.ResolveHostAsync($"{publisher.HostName}.local", ipv6: true));
        }
    }

    [AvahiFact]
    public async Task Avahi_finds_the_service_our_node_publishes_with_its_srv_and_txt()
    {
        await using NetworkNamespaces lan = await NetworkNamespaces.CreateAsync(2);
        NamespaceHost ours = lan.Hosts[0];
        await using NodeProcess node = await NodeProcess.StartAsync(ours, "A", "--mdns-interface", ours.Interface, "--mdns-host-name", ours.Namespace);
        await using AvahiDaemon avahi = await AvahiDaemon.StartAsync(lan.Hosts[1]);
        LineProcess browse = avahi.Browse($"_{NodeProcess.NetworkName}._tcp");

        AvahiService service = await AvahiDaemon.WaitForServiceAsync(browse, s => s.Port == node.Port);
        Assert.Equal(node.Id, service.Name);
        Assert.Equal(($"_{NodeProcess.NetworkName}._tcp", "local", $"{ours.Namespace}.local"), (service.Type, service.Domain, service.HostName));
        IPAddress[] addresses = [ours.Address, .. ours.LinkLocalAddress is { } ll ? [ll] : Array.Empty<IPAddress>()];
        Assert.Contains(service.Address, addresses);
        Assert.Equal(["security=tls", "v=1"], service.Txt.Order(StringComparer.Ordinal));
        node.AssertNoErrors();
    }

    [AvahiFact]
    public async Task Our_browser_finds_a_service_avahi_publishes_and_reads_its_txt()
    {
        await using NetworkNamespaces lan = await NetworkNamespaces.CreateAsync(2);
        NamespaceHost ours = lan.Hosts[0];
        await using NodeProcess node = await NodeProcess.StartAsync(ours, "A", "--mdns-interface", ours.Interface, "--mdns-host-name", ours.Namespace);
        await using AvahiDaemon avahi = await AvahiDaemon.StartAsync(lan.Hosts[1]);

        // Not a node id, so it is listed but never dialled; a plaintext peer would not be dialled by a TLS node either.
        await avahi.PublishAsync("avahi-peer", $"_{NodeProcess.NetworkName}._tcp", 4242, "security=none", "v=1");

        var found = await node.WaitForEventAsync(e => NodeProcess.Is(e, "mdns-found") && (string?)e["instance"] == $"avahi-peer._{NodeProcess.NetworkName}._tcp.local");
        Assert.Equal(4242, (int)found["port"]!);
        Assert.Equal("none", (string?)found["security"]);
        Assert.False((bool)found["compatible"]!);
        Assert.Null((string?)found["id"]);
        string[] addresses = [.. found["addresses"]!.AsArray().Select(a => (string)a!)];
        Assert.Contains(addresses, a => IPAddress.Parse(a.Split('%')[0]).Equals(lan.Hosts[1].Address) || IPAddress.Parse(a.Split('%')[0]).IsIPv6LinkLocal);
        node.AssertNoErrors();
    }
}
