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
}
