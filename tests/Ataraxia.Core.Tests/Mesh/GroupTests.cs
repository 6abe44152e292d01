using System.Collections.Concurrent;
using Ataraxia.Cbor;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Mesh;

public sealed class GroupTests
{
    [Fact]
    public async Task Members_see_each_other_and_broadcast_reaches_members_only()
    {
        // A line 0-1-2-3: node 1 routes but does not join.
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(4);
        await mesh.LinkAllAsync([(0, 1), (1, 2), (2, 3)]);
        await mesh.WaitForVisibilityAsync();
        NamedGroup[] groups = [.. Enumerable.Range(0, 4).Select(i => new NamedGroup(mesh[i], "chat"))];
        int[] members = [0, 2, 3];
        foreach (int i in members)
        {
            await groups[i].JoinAsync();
        }

        await TaskTimeoutExtensions.WaitUntilAsync(() => members.All(i =>
            groups[i].Members.Select(n => n.Id).ToHashSet().SetEquals(members.Where(j => j != i).Select(j => mesh[j].Id))));
        Assert.DoesNotContain(groups[1].Members, n => n.Id == mesh[1].Id);

        var received = new ConcurrentDictionary<int, Message>();
        for (int i = 0; i < 4; i++)
        {
            int index = i;
            groups[i].MessageReceived += (_, e) => received[index] = e.Message;
        }

        int acknowledged = await groups[0].BroadcastAsync("chat:message", new CborMap { ["text"] = "hello" });

        Assert.Equal(2, acknowledged);
        await TaskTimeoutExtensions.WaitUntilAsync(() => received.ContainsKey(2) && received.ContainsKey(3));
        Assert.Equal("hello", received[3].Data.AsMap()["text"].AsString());
        Assert.False(received.ContainsKey(1));
        Assert.False(received.ContainsKey(0));
    }

    [Fact]
    public async Task Leaving_and_disconnecting_raise_member_unavailable()
    {
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(3);
        await mesh.LinkAllAsync([(0, 1), (1, 2)]);
        await mesh.WaitForVisibilityAsync();
        var group0 = new NamedGroup(mesh[0], "ops");
        var group1 = new NamedGroup(mesh[1], "ops");
        var group2 = new NamedGroup(mesh[2], "ops");
        var events = new ConcurrentQueue<string>();
        group0.MemberAvailable += (_, e) => events.Enqueue($"+{mesh.IndexOf(e.Node.Id)}");
        group0.MemberUnavailable += (_, e) => events.Enqueue($"-{mesh.IndexOf(e.Node.Id)}");
        await group0.JoinAsync();
        await group1.JoinAsync();
        await group2.JoinAsync();
        await TaskTimeoutExtensions.WaitUntilAsync(() => group0.Members.Count == 2);

        await group1.LeaveAsync();
        await TaskTimeoutExtensions.WaitUntilAsync(() => group0.Members.Count == 1);
        await mesh.CutAsync(1, 2);
        await TaskTimeoutExtensions.WaitUntilAsync(() => group0.Members.Count == 0 && events.Count == 4);

        string[] all = [.. events];
        Assert.Equal(["+1", "+2"], all[..2].Order());
        Assert.Equal(["-1", "-2"], all[2..]);
    }

    [Fact]
    public async Task A_node_that_joins_later_learns_the_existing_membership()
    {
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(3);
        await mesh.LinkAsync(0, 1);
        await mesh.WaitForVisibilityAsync([0, 1]);
        var group0 = new NamedGroup(mesh[0], "late");
        await group0.JoinAsync();
        var group2 = new NamedGroup(mesh[2], "late");
        await group2.JoinAsync();

        // Node 2 connects after both joined: membership travels through query/membership.
        await mesh.LinkAsync(1, 2);
        await TaskTimeoutExtensions.WaitUntilAsync(() => group2.Members.Any(n => n.Id == mesh[0].Id) && group0.Members.Any(n => n.Id == mesh[2].Id));
    }
}
