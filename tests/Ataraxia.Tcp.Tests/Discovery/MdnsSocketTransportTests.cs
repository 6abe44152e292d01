using System.Net.Sockets;
using Ataraxia.Tcp.Discovery;
using Ataraxia.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Ataraxia.Tcp.Tests.Discovery;

/// <summary>
/// The mDNS socket layer on real multicast sockets. Every transport that opens a socket runs in a probe process
/// inside network namespaces this test creates (<see cref="MdnsNamespaceLan"/>), never on the host's interfaces.
/// </summary>
[Trait("Category", "Integration")]
public sealed class MdnsSocketTransportTests(ITestOutputHelper output)
{
    private static readonly byte[] Ping = [0xA1, 0xA1];

    [NetworkNamespaceFact]
    public async Task MulticastCrossesTheLinkOnBothFamiliesAndReportsTheArrivingInterface()
    {
        await using MdnsNamespaceLan lan = await MdnsNamespaceLan.CreateAsync("v");
        await using MdnsProbe a = await MdnsNamespaceLan.StartProbeAsync(lan.A, "--interfaces", "va");
        await using MdnsProbe b = await MdnsNamespaceLan.StartProbeAsync(lan.B, "--interfaces", "vb");
        int va = a.IndexOf("va"), vb = b.IndexOf("vb");

        await a.SendAsync(Ping);

        MdnsProbe.Received overIPv4 = await b.WaitForPacketAsync(Ping, family: 4);
        Assert.Equal(("10.77.0.1", 5353, vb), (overIPv4.Source, overIPv4.Port, overIPv4.InterfaceIndex));

        // Multicast loopback: the sender sees its own packet, on the interface it went out of.
        MdnsProbe.Received own = await a.WaitForPacketAsync(Ping, family: 4);
        Assert.Equal(("10.77.0.1", 5353, va), (own.Source, own.Port, own.InterfaceIndex));

        // A unicast reply (RFC 6762 §6.7) arrives on the interface it came in on.
        byte[] reply = [0xB1, 0xB1];
        await b.SendUnicastAsync(reply, "10.77.0.1", 5353, vb);
        MdnsProbe.Received unicast = await a.WaitForPacketAsync(reply, family: 4);
        Assert.Equal(("10.77.0.2", 5353, va), (unicast.Source, unicast.Port, unicast.InterfaceIndex));

        if (!MdnsNamespaceLan.IPv6Available)
        {
            output.WriteLine("IPv6 is not available in this kernel; the IPv6 assertions are skipped.");
            return;
        }

        MdnsProbe.Received overIPv6 = await b.WaitForPacketAsync(Ping, family: 6);
        Assert.StartsWith("fe80:", overIPv6.Source, StringComparison.Ordinal);
        Assert.EndsWith($"%{vb}", overIPv6.Source, StringComparison.Ordinal);
        Assert.Equal((5353, vb), (overIPv6.Port, overIPv6.InterfaceIndex));

        // Reply to the link-local source without its scope: the transport scopes it to the given interface.
        byte[] replyIPv6 = [0xB6, 0xB6];
        string aLinkLocal = overIPv6.Source.Split('%')[0];
        await b.SendUnicastAsync(replyIPv6, aLinkLocal, 5353, vb);
        MdnsProbe.Received unicastIPv6 = await a.WaitForPacketAsync(replyIPv6, family: 6);
        Assert.Equal((5353, va), (unicastIPv6.Port, unicastIPv6.InterfaceIndex));
        Assert.EndsWith($"%{va}", unicastIPv6.Source, StringComparison.Ordinal);

        // The interface lists its unicast addresses of both families, link-local with its scope.
        string[] addresses = [.. a.StartedInterfaces[0].GetProperty("addresses").EnumerateArray().Select(x => x.GetString()!)];
        Assert.Contains("10.77.0.1", addresses);
        Assert.Contains(addresses, x => x.StartsWith("fe80:", StringComparison.Ordinal) && x.EndsWith($"%{va}", StringComparison.Ordinal));
        a.AssertNoErrors();
        b.AssertNoErrors();
    }

    [NetworkNamespaceFact]
    public async Task TwoTransportsOnOneHostShareThePortAndBothReceive()
    {
        await using MdnsNamespaceLan lan = await MdnsNamespaceLan.CreateAsync("v");
        await using MdnsProbe first = await MdnsNamespaceLan.StartProbeAsync(lan.A, "--interfaces", "va");
        await using MdnsProbe second = await MdnsNamespaceLan.StartProbeAsync(lan.A, "--interfaces", "va");
        await using MdnsProbe remote = await MdnsNamespaceLan.StartProbeAsync(lan.B, "--interfaces", "vb");
        Assert.Null(first.StartError);
        Assert.Null(second.StartError);
        int va = first.IndexOf("va");

        byte[] fromRemote = [0xC1];
        await remote.SendAsync(fromRemote, family: AddressFamily.InterNetwork);
        Assert.Equal(va, (await first.WaitForPacketAsync(fromRemote, 4)).InterfaceIndex);
        Assert.Equal(va, (await second.WaitForPacketAsync(fromRemote, 4)).InterfaceIndex);

        // Another process on the same host sees our multicast through loopback.
        byte[] fromFirst = [0xC2];
        await first.SendAsync(fromFirst);
        MdnsProbe.Received seen = await second.WaitForPacketAsync(fromFirst, 4);
        Assert.Equal(("10.77.0.1", va), (seen.Source, seen.InterfaceIndex));
        if (MdnsNamespaceLan.IPv6Available)
        {
            Assert.Equal(va, (await second.WaitForPacketAsync(fromFirst, 6)).InterfaceIndex);
        }

        first.AssertNoErrors();
        second.AssertNoErrors();
    }

    [NetworkNamespaceFact]
    public async Task TheFilterChoosesTheInterfacesForSendingAndReceiving()
    {
        await using MdnsNamespaceLan lan = await MdnsNamespaceLan.CreateAsync("v", "w");
        await using MdnsProbe a = await MdnsNamespaceLan.StartProbeAsync(lan.A, "--interfaces", "va");
        await using MdnsProbe b = await MdnsNamespaceLan.StartProbeAsync(lan.B, "--interfaces", "vb,wb");
        Assert.Equal(["va"], a.StartedInterfaces.EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Equal(["vb", "wb"], b.StartedInterfaces.EnumerateArray().Select(i => i.GetProperty("name").GetString()).Order());
        int va = a.IndexOf("va"), vb = b.IndexOf("vb"), wb = b.IndexOf("wb");

        // B sends on both links; A hears it only on the link it uses.
        byte[] both = [0xD1];
        await b.SendAsync(both, family: AddressFamily.InterNetwork);
        await a.WaitForPacketAsync(both, 4);

        // A packet only on the other link never reaches A; one after it on A's link does.
        byte[] otherLink = [0xD2], ownLink = [0xD3];
        await b.SendAsync(otherLink, wb);
        await b.SendAsync(ownLink, vb);
        await a.WaitForPacketAsync(ownLink, 4);

        // A sends "everywhere": only on va, so B hears it on vb and not on wb.
        byte[] fromA = [0xD4];
        await a.SendAsync(fromA, family: AddressFamily.InterNetwork);
        await b.WaitForPacketAsync(fromA, 4);

        await TaskTimeoutExtensions.ExpectNothingAsync();
        Assert.All(a.Packets, p => Assert.Equal(va, p.InterfaceIndex));
        Assert.Single(a.Packets, p => p.Hex == "D1" && p.Family == 4);
        Assert.DoesNotContain(a.Packets, p => p.Hex == "D2");
        Assert.All(b.Packets.Where(p => p.Hex == "D4"), p => Assert.Equal(vb, p.InterfaceIndex));
        Assert.Single(b.Packets, p => p.Hex == "D4" && p.Family == 4);
        Assert.Contains(b.Packets, p => p.Hex == "D1" && p.InterfaceIndex == wb); // its own, looped back on wb
        a.AssertNoErrors();
        b.AssertNoErrors();
    }

    [NetworkNamespaceFact]
    public async Task PacketsLargerThan9000BytesAreDropped()
    {
        await using MdnsNamespaceLan lan = await MdnsNamespaceLan.CreateAsync("v");
        await using MdnsProbe a = await MdnsNamespaceLan.StartProbeAsync(lan.A, "--interfaces", "va", "--no-ipv6");
        await using MdnsProbe b = await MdnsNamespaceLan.StartProbeAsync(lan.B, "--interfaces", "vb", "--no-ipv6");

        byte[] tooLarge = [.. Enumerable.Repeat((byte)0xEE, MdnsSocketTransport.MaxPacketSize + 1)];
        byte[] largest = [.. Enumerable.Repeat((byte)0xDD, MdnsSocketTransport.MaxPacketSize)];
        await b.SendAsync(tooLarge);
        await b.SendAsync(largest);

        Assert.Equal(MdnsSocketTransport.MaxPacketSize, (await a.WaitForPacketAsync(largest)).Length);
        await a.WaitForAsync(e => MdnsProbe.Event(e) == "log" && e.GetProperty("id").GetInt32() == 159);
        Assert.DoesNotContain(a.Packets, p => p.Length > MdnsSocketTransport.MaxPacketSize);
        a.AssertNoErrors();
    }

    [NetworkNamespaceFact]
    public async Task StartFailsClearlyWhenThePortIsHeldWithoutAddressReuse()
    {
        await using MdnsNamespaceLan lan = await MdnsNamespaceLan.CreateAsync("v");
        await using MdnsProbe holder = await MdnsNamespaceLan.StartProbeAsync(lan.A, "--hold-port", "exclusive");
        await using MdnsProbe a = await MdnsNamespaceLan.StartProbeAsync(lan.A, "--interfaces", "va");

        Assert.NotNull(a.StartError);
        Assert.Contains("5353", a.StartError, StringComparison.Ordinal);
        Assert.Contains("without address reuse", a.StartError, StringComparison.Ordinal);
        Assert.Contains(a.Logs, l => l.Level == "Error" && l.Id == 151);
    }

    [NetworkNamespaceFact]
    public async Task StartsBesideAProgramThatSetsOnlyOneOfTheReuseOptions()
    {
        // avahi-daemon, Bonjour and browsers hold 5353 with SO_REUSEADDR, SO_REUSEPORT or both; we set both.
        await using MdnsNamespaceLan lan = await MdnsNamespaceLan.CreateAsync("v");
        await using MdnsProbe reuseAddress = await MdnsNamespaceLan.StartProbeAsync(lan.A, "--hold-port", "reuseaddr");
        await using MdnsProbe reusePort = await MdnsNamespaceLan.StartProbeAsync(lan.B, "--hold-port", "reuseport");
        await using MdnsProbe a = await MdnsNamespaceLan.StartProbeAsync(lan.A, "--interfaces", "va");
        await using MdnsProbe b = await MdnsNamespaceLan.StartProbeAsync(lan.B, "--interfaces", "vb");
        Assert.Null(a.StartError);
        Assert.Null(b.StartError);

        await a.SendAsync(Ping);
        await b.WaitForPacketAsync(Ping, 4);
        a.AssertNoErrors();
        b.AssertNoErrors();
    }

    [NetworkNamespaceFact]
    public async Task InterfacesThatComeAndGoAreJoinedAndLeft()
    {
        await using MdnsNamespaceLan lan = await MdnsNamespaceLan.CreateAsync("v");
        await using MdnsProbe a = await MdnsNamespaceLan.StartProbeAsync(lan.A, "--interfaces", "va,xa");
        await using MdnsProbe b = await MdnsNamespaceLan.StartProbeAsync(lan.B, "--interfaces", "x*");
        Assert.Equal(["va"], a.StartedInterfaces.EnumerateArray().Select(i => i.GetProperty("name").GetString()));

        await lan.AddLinkAsync("x", 90);
        var changed = await a.WaitForAsync(e => MdnsProbe.Event(e) == "interfaces"
            && e.GetProperty("interfaces").EnumerateArray().Any(i => i.GetProperty("name").GetString() == "xa"));
        int xa = changed.GetProperty("interfaces").EnumerateArray().Single(i => i.GetProperty("name").GetString() == "xa").GetProperty("index").GetInt32();
        await b.WaitForAsync(e => MdnsProbe.Event(e) == "interfaces" && e.GetProperty("interfaces").GetArrayLength() == 1);

        byte[] overNewLink = [0xE1];
        await b.SendAsync(overNewLink, family: AddressFamily.InterNetwork);
        Assert.Equal(xa, (await a.WaitForPacketAsync(overNewLink, 4)).InterfaceIndex);

        await lan.RemoveLinkAsync("x");
        await a.WaitForAsync(e => MdnsProbe.Event(e) == "interfaces"
            && e.GetProperty("interfaces").EnumerateArray().Select(i => i.GetProperty("name").GetString()).SequenceEqual(["va"]));

        // Sending to an interface that went away is not an error.
        await a.SendAsync(overNewLink, xa);
        a.AssertNoErrors();
    }

    [NetworkNamespaceFact]
    public async Task AThrowingHandlerDoesNotStopTheReceiveLoop()
    {
        await using MdnsNamespaceLan lan = await MdnsNamespaceLan.CreateAsync("v");
        await using MdnsProbe a = await MdnsNamespaceLan.StartProbeAsync(lan.A, "--interfaces", "va", "--throwing-handler");
        await using MdnsProbe b = await MdnsNamespaceLan.StartProbeAsync(lan.B, "--interfaces", "vb");

        byte[] first = [0xF1], second = [0xF2];
        await b.SendAsync(first, family: AddressFamily.InterNetwork);
        await a.WaitForPacketAsync(first, 4);
        await b.SendAsync(second, family: AddressFamily.InterNetwork);
        await a.WaitForPacketAsync(second, 4);
        Assert.Contains(a.Logs, l => l.Level == "Warning" && l.Id == 160);
        a.AssertNoErrors();
    }

    [Fact]
    public async Task StartRefusesWhenBothAddressFamiliesAreOff()
    {
        await using var transport = new MdnsSocketTransport(new MdnsDiscoveryOptions { UseIPv4 = false, UseIPv6 = false }, NullLogger.Instance);
        await Assert.ThrowsAsync<InvalidOperationException>(() => transport.StartAsync().AsTask());
    }

    [Fact]
    public async Task SendingBeforeStartOrAfterDisposeThrows()
    {
        var transport = new MdnsSocketTransport(new MdnsDiscoveryOptions(), NullLogger.Instance);
        await Assert.ThrowsAsync<InvalidOperationException>(() => transport.SendMulticastAsync(Ping).AsTask());
        Assert.Empty(transport.Interfaces);
        await transport.DisposeAsync();
        await transport.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => transport.SendMulticastAsync(Ping).AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => transport.StartAsync().AsTask());
    }
}
