namespace Ataraxia.Tests.Mesh;

public sealed class NodeRouteLatencyTests
{
    [Fact]
    public async Task A_route_adds_up_the_latency_of_its_links()
    {
        // 0 - 1 - 2 in a line; the 1-2 link is slow, so its latency shows in the route from 0 to 2 (and back).
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(3);
        mesh.Switchboard.SetLatency(mesh.Transports[1], mesh.Transports[2], TimeSpan.FromMilliseconds(100));
        await mesh.LinkAllAsync([(0, 1), (1, 2)]);
        await mesh.WaitForVisibilityAsync();

        NodeRoute direct = Assert.IsType<NodeRoute>(mesh[0].GetRoute(mesh[1].Id));
        NodeRoute routed = Assert.IsType<NodeRoute>(mesh[0].GetRoute(mesh[2].Id));
        NodeRoute back = Assert.IsType<NodeRoute>(mesh[2].GetRoute(mesh[0].Id));

        Assert.True(direct.Latency < TimeSpan.FromMilliseconds(100), $"Direct latency {direct.Latency}.");
        Assert.Equal([mesh[1].Id, mesh[2].Id], routed.Path);

        // Two 100 ms crossings make one round trip on the slow link (about 200 ms; samples are whole milliseconds, floored,
        // and timers fire a little early or late), which node 1 measured and reported.
        Assert.True(routed.Latency >= direct.Latency + TimeSpan.FromMilliseconds(150), $"Routed {routed.Latency}, direct {direct.Latency}.");
        Assert.True(back.Latency >= TimeSpan.FromMilliseconds(150), $"Back {back.Latency}.");
        Assert.True(routed.Latency < TimeSpan.FromSeconds(5), $"Routed {routed.Latency}.");
    }
}
