using System.Diagnostics;
using System.Text.Json.Nodes;
using Ataraxia.Protocol;
using Ataraxia.Testing;
using Xunit.Abstractions;

namespace Ataraxia.Interop.Tests;

/// <summary>Scenario 6, first half: a C#–JavaScript link outlives the JavaScript failure detector (WIRE.md §8.1).</summary>
/// <remarks>Its own collection: it waits about 45 s, while the other collections run.</remarks>
[Collection(JsLivenessTests.Name)]
[Trait("Category", "Integration")]
public sealed class LivenessTests(ITestOutputHelper output) : InteropTest(output)
{
    // JavaScript sends a PING every 30 s and its failure detector expects ours at the same cadence (WIRE.md §8.1).
    private static readonly TimeSpan LivenessPeriod = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan LivenessDeadline = TimeSpan.FromSeconds(60);

    [JsFact]
    public async Task Liveness_LinkSurvivesPingCadence()
    {
        DotNetNode dotNet = await StartDotNetAsync("dotnet");
        JsNode js = await StartJsAsync("js-liveness");
        await js.ConnectAsync(dotNet.Plain.Port);

        Node node = await dotNet.WaitForNodeAsync(js.Id);
        JsonObject connected = await js.WaitForEventAsync(e => JsNode.Is(e, "peer-connected"));
        await js.WaitForAvailableAsync(dotNet.Id);
        var up = Stopwatch.StartNew();

        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (up.Elapsed < LivenessPeriod)
        {
            Assert.True(node.IsAvailable, $"After {Seconds(up.Elapsed)}: the C# node lost the JavaScript node\n{Transcripts()}");
            JsonObject? lost = js.Events.FirstOrDefault(e => JsNode.Is(e, "unavailable") || JsNode.Is(e, "peer-disconnected") || JsNode.Is(e, "socket-closed"));
            Assert.True(lost is null, $"After {Seconds(up.Elapsed)}: the JavaScript node lost the C# node: {lost?.ToJsonString()}\n{Transcripts()}");
            Assert.True(up.Elapsed < LivenessDeadline, "The liveness wait overran.");
            await timer.WaitForNextTickAsync();
        }

        Assert.True(dotNet.Network.TryGetNode(js.Id, out Node? still) && still.IsAvailable, Transcripts());
        await DirectTests.ExchangePayloadsAsync(dotNet, js);

        // The cadence JavaScript saw: exactly one PING from us so far, about 30 s after activation, never early
        // (an early PING makes its accrual detector drop the link, WIRE.md §8.1); and its own PING answered.
        long activatedAt = (long)connected["atMs"]!;
        List<long> pingsFromDotNet = [.. js.Events.Where(e => IsTrace(e, "in", "Ping")).Select(e => (long)e["atMs"]! - activatedAt)];
        Note($"PINGs from C# at {string.Join(", ", pingsFromDotNet)} ms after activation");
        Assert.True(pingsFromDotNet.Count == 1, $"Expected one PING from C# within {LivenessPeriod}, saw {pingsFromDotNet.Count}\n{Transcripts()}");
        Assert.InRange(pingsFromDotNet[0], 28_000, 40_000);
        Assert.Contains(js.Events, e => IsTrace(e, "out", "Ping"));
        Assert.Contains(js.Events, e => IsTrace(e, "in", "Pong"));
        AssertHealthy();
    }
}

/// <summary>
/// Scenario 6, second half: a JavaScript node whose process is frozen (SIGSTOP) stops sending PINGs and the C#
/// side drops it once its configured ping timeout passes.
/// </summary>
/// <remarks>Its own collection: it waits about 40 s, while the other collections run.</remarks>
[Collection(JsFreezeTests.Name)]
[Trait("Category", "Integration")]
public sealed class FreezeTests(ITestOutputHelper output) : InteropTest(output)
{
    // JavaScript pings every 30 s (WIRE.md §8.1), so a timeout must exceed that; checked every second.
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(35);
    private static readonly TimeSpan DropDeadline = TimeSpan.FromSeconds(45);

    [JsFreezeFact]
    public async Task FrozenJsNode_IsDroppedAfterPingTimeout()
    {
        DotNetNode dotNet = await StartDotNetAsync("dotnet", session: new PeerSessionOptions
        {
            PingTimeout = PingTimeout,
            PingCheckInterval = TimeSpan.FromSeconds(1),
        });
        JsNode js = await StartJsAsync("js-frozen");
        await js.ConnectAsync(dotNet.Plain.Port);
        ConnectionResult connection = await dotNet.WaitForConnectionAsync();
        Assert.True(connection.Error is null, $"Negotiation failed: {connection.Error}\n{Transcripts()}");
        var sinceActive = Stopwatch.StartNew();
        Node node = await dotNet.WaitForNodeAsync(js.Id);
        await js.WaitForAvailableAsync(dotNet.Id);

        var unavailable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dotNet.Network.NodeUnavailable += (_, e) =>
        {
            if (e.Node.Id == js.Id)
            {
                unavailable.TrySetResult();
            }
        };

        await js.SignalAsync("STOP");
        var sinceFreeze = Stopwatch.StartNew();
        Note($"froze the JavaScript node (pid {js.ProcessId}) {Seconds(sinceActive.Elapsed)} after activation");
        try
        {
            PeerDisconnectReason reason = await connection.Session.Completion.DefaultTimeout(DropDeadline);
            TimeSpan droppedAfterFreeze = sinceFreeze.Elapsed;
            TimeSpan droppedAfterActivation = sinceActive.Elapsed;
            await unavailable.Task.DefaultTimeout(DropDeadline - droppedAfterFreeze + TimeSpan.FromSeconds(1));
            TimeSpan unavailableAfterFreeze = sinceFreeze.Elapsed;
            Note($"session ended ({reason}) {Seconds(droppedAfterFreeze)} after the freeze, {Seconds(droppedAfterActivation)} after activation; node unavailable {Seconds(unavailableAfterFreeze)} after the freeze");

            Assert.True(reason == PeerDisconnectReason.PingTimeout, $"Expected PingTimeout, got {reason} ({connection.Session.DisconnectError})\n{Transcripts()}");
            Assert.IsType<TimeoutException>(connection.Session.DisconnectError);

            // The last PING heard was the activation (JavaScript's first PING comes 30 s after it): the session
            // ends only once the timeout has passed since then, and within the deadline of the freeze. The
            // stopwatch starts when the test hears of the activation, a little after it: hence the margin.
            Assert.True(droppedAfterActivation >= PingTimeout - TimeSpan.FromSeconds(1), $"Dropped {Seconds(droppedAfterActivation)} after activation, before the {Seconds(PingTimeout)} timeout\n{Transcripts()}");
            Assert.True(unavailableAfterFreeze <= DropDeadline, $"Unavailable only {Seconds(unavailableAfterFreeze)} after the freeze\n{Transcripts()}");
            Assert.False(node.IsAvailable);
            Assert.Empty(dotNet.Network.Nodes);
            Assert.Contains(dotNet.Logs.Entries, e => e.Message.Contains("no PING", StringComparison.Ordinal));
        }
        finally
        {
            await js.SignalAsync("CONT");
        }

        // Resumed, the JavaScript node finds its connection gone and carries on without crashing.
        await js.WaitForEventAsync(e => JsNode.Is(e, "socket-closed"));
        await js.WaitForEventAsync(e => JsNode.Is(e, "unavailable") && (string?)e["id"] == dotNet.IdHex);
        AssertHealthy();
    }
}
