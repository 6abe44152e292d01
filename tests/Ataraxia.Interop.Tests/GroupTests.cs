using System.Text.Json.Nodes;
using Ataraxia.Cbor;
using Ataraxia.Testing;
using Xunit.Abstractions;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// Scenario 5: C# and JavaScript nodes in one <c>NamedGroup</c> (WIRE.md §12.1): joins and leaves on either side
/// show up on both, and group broadcasts reach exactly the members, across a line c0 – j0 – c1 – j1 whose middle
/// nodes route for the ends.
/// </summary>
[Collection(JsNodeTests.Name)]
[Trait("Category", "Integration")]
public sealed class GroupTests(ITestOutputHelper output) : InteropTest(output)
{
    private const string Group = "interop-group";

    [JsFact]
    public async Task NamedGroup_MembershipAndBroadcastAgreeAcrossLanguages()
    {
        DotNetNode[] dotNet = await Task.WhenAll(StartDotNetAsync("c0"), StartDotNetAsync("c1"));
        JsNode[] js = await Task.WhenAll(StartJsAsync("j0"), StartJsAsync("j1"));
        (DotNetNode c0, DotNetNode c1, JsNode j0, JsNode j1) = (dotNet[0], dotNet[1], js[0], js[1]);

        // Group objects first, then connections: JavaScript ignores group news from nodes it saw become available
        // before its group machinery existed (WIRE.md §12.1).
        await using var g0 = new GroupWatcher(new NamedGroup(c0.Network, Group));
        await using var g1 = new GroupWatcher(new NamedGroup(c1.Network, Group));
        await j0.RequestAsync(new JsonObject { ["cmd"] = "group-create", ["group"] = Group }, "group-created");
        await j1.RequestAsync(new JsonObject { ["cmd"] = "group-create", ["group"] = Group }, "group-created");

        await j0.ConnectAsync(c0.Plain.Port);
        await c1.ConnectWebSocketAsync(await j0.ListenWebSocketAsync());
        await j1.ConnectAsync(c1.Plain.Port);
        await c0.WaitForNodeAsync(j1.Id);
        await c1.WaitForNodeAsync(c0.Id);
        await j0.WaitForAvailableAsync(j1.Id);
        await j1.WaitForAvailableAsync(c0.Id);

        // c0, j0 and c1 join; j1 only watches.
        await g0.Group.JoinAsync();
        await JoinAsync(j0);
        await g1.Group.JoinAsync();
        await ExpectMembersAsync(c0, g0, [j0.Id, c1.Id]);
        await ExpectMembersAsync(c1, g1, [c0.Id, j0.Id]);
        await ExpectMembersAsync(j0, [c0.Id, c1.Id]);
        await ExpectMembersAsync(j1, [c0.Id, j0.Id, c1.Id]);
        Note("c0, j0 and c1 joined; everyone agrees");

        // A C# broadcast reaches the other members, in C# and JavaScript.
        CborMap fromC0 = new() { ["from"] = "c0", ["values"] = new CborArray([1, 1.5, "x", new byte[] { 1 }]) };
        Assert.Equal(2, await g0.Group.BroadcastAsync("group:from-c0", fromC0).DefaultTimeout());
        await ExpectGroupMessageAsync(j0, "group:from-c0", c0, fromC0);
        await ExpectGroupMessageAsync(g1, "group:from-c0", c0, fromC0);

        // A JavaScript broadcast reaches the C# members.
        CborMap fromJ0 = new() { ["from"] = "j0", ["nested"] = new CborMap { ["ok"] = true } };
        await BroadcastAsync(j0, "group:from-j0", fromJ0);
        await ExpectGroupMessageAsync(g0, "group:from-j0", j0, fromJ0);
        await ExpectGroupMessageAsync(g1, "group:from-j0", j0, fromJ0);

        // j1 joins: everyone sees it, and its broadcast reaches the three others.
        await JoinAsync(j1);
        await ExpectMembersAsync(c0, g0, [j0.Id, c1.Id, j1.Id]);
        await ExpectMembersAsync(c1, g1, [c0.Id, j0.Id, j1.Id]);
        await ExpectMembersAsync(j0, [c0.Id, c1.Id, j1.Id]);
        await ExpectMembersAsync(j1, [c0.Id, j0.Id, c1.Id]);
        CborMap fromJ1 = new() { ["from"] = "j1" };
        await BroadcastAsync(j1, "group:from-j1", fromJ1);
        await ExpectGroupMessageAsync(g0, "group:from-j1", j1, fromJ1);
        await ExpectGroupMessageAsync(g1, "group:from-j1", j1, fromJ1);
        await ExpectGroupMessageAsync(j0, "group:from-j1", j1, fromJ1);
        Note("j1 joined and broadcast to all three");

        // c1 (C#) and then j0 (JavaScript) leave: the others see them go and stop sending to them.
        await g1.Group.LeaveAsync();
        await ExpectMembersAsync(c0, g0, [j0.Id, j1.Id]);
        await ExpectMembersAsync(j0, [c0.Id, j1.Id]);
        await ExpectMembersAsync(j1, [c0.Id, j0.Id]);
        await LeaveAsync(j0);
        await ExpectMembersAsync(c0, g0, [j1.Id]);
        await ExpectMembersAsync(c1, g1, [c0.Id, j1.Id]);
        await ExpectMembersAsync(j1, [c0.Id]);
        await EventuallyAsync(() => Task.FromResult(g0.Left.Contains(c1.Id) && g0.Left.Contains(j0.Id) ? null : "c0 raised no MemberUnavailable for c1 and j0"));

        CborMap last = new() { ["from"] = "j1", ["after"] = "leaves" };
        await BroadcastAsync(j1, "group:after-leaves", last);
        await ExpectGroupMessageAsync(g0, "group:after-leaves", j1, last);
        Assert.Equal(1, await g0.Group.BroadcastAsync("group:c0-after-leaves", last).DefaultTimeout());
        await ExpectGroupMessageAsync(j1, "group:c0-after-leaves", c0, last);
        Note("c1 and j0 left; broadcasts reach only c0 and j1");

        // Nobody got a broadcast it should not have (all of them were delivered before the ones awaited last).
        Assert.DoesNotContain(j1.Events, e => JsNode.Is(e, "message") && (string?)e["type"] == "group:from-c0");
        Assert.DoesNotContain(j1.Events, e => JsNode.Is(e, "message") && (string?)e["type"] == "group:from-j0");
        Assert.False(c1.HasReceived("group:after-leaves"));
        Assert.False(c1.HasReceived("group:c0-after-leaves"));
        Assert.DoesNotContain(j0.Events, e => JsNode.Is(e, "message") && ((string?)e["type"])!.Contains("after-leaves", StringComparison.Ordinal));
        AssertHealthy();
    }

    private static Task<JsonObject> JoinAsync(JsNode js) => js.RequestAsync(new JsonObject { ["cmd"] = "join-group", ["group"] = Group }, "group-joined");

    private static Task<JsonObject> LeaveAsync(JsNode js) => js.RequestAsync(new JsonObject { ["cmd"] = "leave-group", ["group"] = Group }, "group-left");

    private static Task<JsonObject> BroadcastAsync(JsNode js, string type, CborValue data) =>
        js.RequestAsync(new JsonObject { ["cmd"] = "group-broadcast", ["group"] = Group, ["type"] = type, ["data"] = CborJson.ToJson(data) }, "group-broadcast-sent");

    private Task ExpectMembersAsync(DotNetNode node, GroupWatcher group, NodeId[] expected) =>
        EventuallyAsync(() =>
        {
            HashSet<string> members = [.. group.Group.Members.Select(m => Hex(m.Id))];
            HashSet<string> wanted = [.. expected.Select(Hex)];
            return Task.FromResult(members.SetEquals(wanted) ? null : $"{node.Name} lists members {Describe(members)}, expected {Describe(wanted)}");
        });

    private Task ExpectMembersAsync(JsNode node, NodeId[] expected) =>
        EventuallyAsync(async () =>
        {
            HashSet<string> members = await node.GroupMembersAsync(Group);
            HashSet<string> wanted = [.. expected.Select(Hex)];
            return members.SetEquals(wanted) ? null : $"{node.Name} lists members {Describe(members)}, expected {Describe(wanted)}";
        });

    private static Task ExpectGroupMessageAsync(JsNode receiver, string type, DotNetNode sender, CborValue data) =>
        ExpectGroupMessageAsync(receiver, type, sender.Id, data);

    private static Task ExpectGroupMessageAsync(JsNode receiver, string type, JsNode sender, CborValue data) =>
        ExpectGroupMessageAsync(receiver, type, sender.Id, data);

    private static async Task ExpectGroupMessageAsync(JsNode receiver, string type, NodeId sender, CborValue data)
    {
        JsonObject message = await receiver.WaitForEventAsync(e => JsNode.Is(e, "group-message") && (string?)e["type"] == type);
        Assert.Equal(Group, (string?)message["group"]);
        Assert.Equal(Hex(sender), (string?)message["from"]);
        Assert.True(CborJson.JsonDifference(CborJson.ToJson(data), message["data"]) is null, $"{type}: {CborJson.JsonDifference(CborJson.ToJson(data), message["data"])}");
    }

    private static async Task ExpectGroupMessageAsync(GroupWatcher receiver, string type, JsNode sender, CborValue data)
    {
        Message message = await receiver.WaitForMessageAsync(type);
        Assert.Equal(sender.Id, message.Source.Id);
        Assert.True(CborJson.CborDifference(Normalize(data), message.Data) is null, $"{type}: {CborJson.CborDifference(Normalize(data), message.Data)}");
    }

    private static async Task ExpectGroupMessageAsync(GroupWatcher receiver, string type, DotNetNode sender, CborValue data)
    {
        Message message = await receiver.WaitForMessageAsync(type);
        Assert.Equal(sender.Id, message.Source.Id);
        Assert.True(data.Encode().AsSpan().SequenceEqual(message.RawData.Span), $"{type}: payload bytes changed");
    }

    /// <summary>Records a C# group's messages and departures for bounded waits.</summary>
    private sealed class GroupWatcher : IAsyncDisposable
    {
        private readonly List<Message> _messages = [];
        private readonly List<NodeId> _left = [];
        private readonly List<(string Type, TaskCompletionSource<Message> Completion)> _waiters = [];

        public GroupWatcher(NamedGroup group)
        {
            Group = group;
            group.MessageReceived += (_, e) =>
            {
                List<TaskCompletionSource<Message>> matched;
                lock (_messages)
                {
                    _messages.Add(e.Message);
                    matched = [.. _waiters.Where(w => w.Type == e.Message.Type).Select(w => w.Completion)];
                    _waiters.RemoveAll(w => w.Type == e.Message.Type);
                }

                foreach (TaskCompletionSource<Message> completion in matched)
                {
                    completion.TrySetResult(e.Message);
                }
            };
            group.MemberUnavailable += (_, e) =>
            {
                lock (_messages)
                {
                    _left.Add(e.Node.Id);
                }
            };
        }

        public NamedGroup Group { get; }

        public IReadOnlyList<NodeId> Left
        {
            get
            {
                lock (_messages)
                {
                    return [.. _left];
                }
            }
        }

        public async Task<Message> WaitForMessageAsync(string type)
        {
            var completion = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_messages)
            {
                if (_messages.FirstOrDefault(m => m.Type == type) is { } existing)
                {
                    return existing;
                }

                _waiters.Add((type, completion));
            }

            return await completion.Task.DefaultTimeout();
        }

        public ValueTask DisposeAsync() => Group.DisposeAsync();
    }
}
