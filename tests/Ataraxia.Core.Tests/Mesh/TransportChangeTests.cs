using Ataraxia.Testing;
using Ataraxia.Transport;

namespace Ataraxia.Core.Tests.Mesh;

/// <summary>Transports added to and removed from a joined network (the machine-leader pattern).</summary>
public sealed class TransportChangeTests
{
    [Fact]
    public async Task A_transport_added_after_joining_connects_and_removing_it_closes_its_connections()
    {
        await using var switchboard = new InMemorySwitchboard();
        InMemoryTransport first = switchboard.CreateTransport("a1");
        InMemoryTransport other = switchboard.CreateTransport("b");
        await using var a = new Network(new NetworkOptions { Name = "change", Transports = [first] });
        await using var b = new Network(new NetworkOptions { Name = "change", Transports = [other] });
        await a.JoinAsync();
        await b.JoinAsync();
        Assert.Equal([first], a.Transports);

        InMemoryTransport added = switchboard.CreateTransport("a2");
        await a.AddTransportAsync(added);
        Assert.Equal([first, added], a.Transports);
        await switchboard.LinkAsync(added, other).DefaultTimeout();
        await TaskTimeoutExtensions.WaitUntilAsync(() => a.TryGetNode(b.Id, out _) && b.TryGetNode(a.Id, out _));

        Assert.True(await a.RemoveTransportAsync(added));
        Assert.Equal([first], a.Transports);
        await TaskTimeoutExtensions.WaitUntilAsync(() => !a.TryGetNode(b.Id, out _) && !b.TryGetNode(a.Id, out _));
        Assert.False(await a.RemoveTransportAsync(added));
    }

    [Fact]
    public async Task Adding_needs_a_joined_network_and_a_new_transport()
    {
        await using var switchboard = new InMemorySwitchboard();
        InMemoryTransport transport = switchboard.CreateTransport("t");
        await using var network = new Network(new NetworkOptions { Name = "change", Transports = [transport] });
        await Assert.ThrowsAsync<InvalidOperationException>(() => network.AddTransportAsync(switchboard.CreateTransport("early")).AsTask());
        await network.JoinAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => network.AddTransportAsync(transport).AsTask());
    }
}
