using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using Ataraxia.Testing;
using Xunit.Abstractions;

namespace Ataraxia.ServicesTests;

/// <summary>
/// The TCP tests run one after another and alone: one measures how fast a killed provider's calls fail, another runs
/// 10,000 calls at once, and neither should compete with other tests for the CPU.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServicesOverTcpRunAlone
{
    public const string Name = "Services over TCP";
}

/// <summary>Services over real TCP sockets (TLS, the default) on 127.0.0.1, between networks and with a provider in its own process.</summary>
[Trait("Category", "Integration")]
[Collection(ServicesOverTcpRunAlone.Name)]
public sealed class TcpServiceTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Created = new(2024, 5, 17, 12, 30, 15, TimeSpan.Zero);

    [Fact]
    public async Task Typed_calls_of_every_signature_reach_a_provider_two_tcp_hops_away()
    {
        await using TcpServiceNode b = await TcpServiceNode.StartAsync();
        await using TcpServiceNode a = await TcpServiceNode.StartAsync(peers: b.EndPoint);
        await using TcpServiceNode c = await TcpServiceNode.StartAsync(peers: b.EndPoint);
        await AssertChainAsync(a, b, c);
        var calculator = new Calculator();
        using ServiceRegistration registration = c.Services.Register<ICalculator>("calc", calculator);
        ServiceReference reference = a.Services.Get("calc");
        await reference.WaitUntilAvailableAsync().DefaultTimeout();
        Assert.Equal(c.Id, Assert.Single(reference.Providers).Node);
        ICalculator calc = reference.As<ICalculator>();
        using var token = new CancellationTokenSource();

        // Task<T>, ValueTask<T> with a defaulted and with a passed token, Task, ValueTask with a token.
        Assert.Equal(5, await calc.AddAsync(2, 3).DefaultTimeout());
        Assert.Equal("héllo, wörld", await calc.EchoAsync("héllo, wörld").DefaultTimeout());
        Assert.Equal("with a token", await calc.EchoAsync("with a token", token.Token).DefaultTimeout());
        await calc.PingAsync().DefaultTimeout();
        Assert.Equal(1, calculator.Pings);
        await calc.ClearAsync(token.Token).DefaultTimeout();
        Assert.Equal(1, calculator.Clears);

        // Records in and out; the optional parameter passed, defaulted by the proxy, and left off the wire.
        var shape = new Shape("triangle", [new Point(1, 2), new Point(3, 4), new Point(-5, 6)], Created);
        AssertShape(shape, 2, await calc.ScaleAsync(shape).DefaultTimeout());
        AssertShape(shape, 3, await calc.ScaleAsync(shape, 3).DefaultTimeout());
        AssertShape(shape, 2, await reference.CallAsync<Shape>("scale", shape).DefaultTimeout());
        AssertShape(shape with { Created = null }, 2, await calc.ScaleAsync(shape with { Created = null }).DefaultTimeout());

        // params: none, one, many (sent as separate arguments); nullable in and out.
        Assert.Equal(0, await calc.SumAsync().DefaultTimeout());
        Assert.Equal(7, await calc.SumAsync(7).DefaultTimeout());
        Assert.Equal(15, await calc.SumAsync(1, 2, 3, 4, 5).DefaultTimeout());
        Assert.Equal(15, await reference.CallAsync<int>("sum", 1, 2, 3, 4, 5).DefaultTimeout());
        Assert.Null(await calc.MaybeAsync(null).DefaultTimeout());
        Assert.Equal("x", await calc.MaybeAsync("x").DefaultTimeout());

        // A remote exception arrives as a ServiceCallException with the remote message and type.
        ServiceCallException failed = await Assert.ThrowsAsync<ServiceCallException>(() => calc.FailAsync("boom over tcp").DefaultTimeout());
        Assert.Equal(ServiceCallFailure.RemoteError, failed.Failure);
        Assert.Equal("boom over tcp", failed.RemoteMessage);
        Assert.Equal(typeof(InvalidOperationException).FullName, failed.RemoteType);
        Assert.Equal(c.Id, failed.Provider);
        Assert.Equal("calc", failed.Service);
        Assert.Equal("fail", failed.Method);
        ServiceCallException missing = await Assert.ThrowsAsync<ServiceCallException>(() => reference.CallAsync("noSuchMethod").DefaultTimeout());
        Assert.Equal(ServiceCallFailure.RemoteError, missing.Failure);
        Assert.Equal(typeof(MissingMethodException).FullName, missing.RemoteType);

        // Cancelling the caller's token stops waiting; the provider's token fires when its services stop.
        using var cancel = new CancellationTokenSource();
        Task<int> waiting = calc.WaitForCancellationAsync(cancel.Token);
        await TaskTimeoutExtensions.WaitUntilAsync(() => a.Services.PendingCalls == 1);

        // A later call on the same path answered: the earlier request reached the provider (a pending call counts from
        // before its request is sent, and cancelling could otherwise stop the request itself).
        Assert.Equal(9, await calc.AddAsync(4, 5).DefaultTimeout());
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, a.Services.PendingCalls);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.DefaultTimeout());
        Assert.Equal(0, a.Services.PendingCalls);
        Assert.False(calculator.Cancelled.IsCompleted);
        await c.LeaveAsync();
        await calculator.Cancelled.DefaultTimeout();

        // The mesh still works after all that: nothing on the way was closed by a failure.
        Assert.Equal(0, a.Services.PendingCalls);
        Assert.True(a.Sees(b));
    }

    [Fact]
    public async Task Events_reach_only_their_subscribers_and_a_subscriber_that_drops_off_is_forgotten()
    {
        await using TcpServiceNode b = await TcpServiceNode.StartAsync();
        await using TcpServiceNode a = await TcpServiceNode.StartAsync(peers: b.EndPoint);
        await using TcpServiceNode c = await TcpServiceNode.StartAsync(peers: b.EndPoint);
        await AssertChainAsync(a, b, c);
        var calculator = new Calculator();
        using ServiceRegistration registration = c.Services.Register<ICalculator>("calc", calculator);
        ServiceReference atA = a.Services.Get("calc");
        ServiceReference atB = b.Services.Get("calc");
        await atA.WaitUntilAvailableAsync().DefaultTimeout();
        await atB.WaitUntilAvailableAsync().DefaultTimeout();
        ICalculator calc = atA.As<ICalculator>();

        // A listens to three events through the proxy; B, the router in between, only to `reset`.
        var moved = Channel.CreateUnbounded<Point>();
        var echoed = Channel.CreateUnbounded<string>();
        var resetAtA = Channel.CreateUnbounded<object?>();
        var resetAtB = Channel.CreateUnbounded<object?>();
        calc.Moved += (_, point) => moved.Writer.TryWrite(point);
        calc.OnEcho += message => echoed.Writer.TryWrite(message);
        calc.Reset += (sender, _) => resetAtA.Writer.TryWrite(sender);
        using IDisposable bListens = atB.Subscribe("reset", arguments => resetAtB.Writer.TryWrite(arguments));
        await TaskTimeoutExtensions.WaitUntilAsync(() =>
            registration.GetSubscribers("moved").Count == 1 && registration.GetSubscribers("onEcho").Count == 1 && registration.GetSubscribers("reset").Count == 2);
        Assert.Equal([a.Id], registration.GetSubscribers("moved"));
        Assert.Equal([a.Id], registration.GetSubscribers("onEcho"));
        Assert.Equal(new[] { a.Id, b.Id }.Order(), registration.GetSubscribers("reset").Order());
        Assert.True(calculator.HasMovedListeners);

        calculator.Move(1, 2);
        calculator.Move(3, 4);
        calculator.Move(5, 6);
        Assert.Equal(new Point(1, 2), await moved.Reader.ReadAsync().AsTask().DefaultTimeout());
        Assert.Equal(new Point(3, 4), await moved.Reader.ReadAsync().AsTask().DefaultTimeout());
        Assert.Equal(new Point(5, 6), await moved.Reader.ReadAsync().AsTask().DefaultTimeout());
        Assert.Equal("echo me", await calc.EchoAsync("echo me").DefaultTimeout());
        Assert.Equal("echo me", await echoed.Reader.ReadAsync().AsTask().DefaultTimeout());
        await calc.ClearAsync(CancellationToken.None).DefaultTimeout();
        Assert.Same(calc, await resetAtA.Reader.ReadAsync().AsTask().DefaultTimeout());
        await resetAtB.Reader.ReadAsync().AsTask().DefaultTimeout();

        // Nothing more arrives than what was emitted (B saw its one reset; A nothing twice).
        await TaskTimeoutExtensions.ExpectNothingAsync();
        Assert.False(moved.Reader.TryRead(out _));
        Assert.False(echoed.Reader.TryRead(out _));
        Assert.False(resetAtA.Reader.TryRead(out _));
        Assert.False(resetAtB.Reader.TryRead(out _));
        Assert.Equal([a.Id], registration.GetSubscribers("moved"));

        // A stream event: the subscription lasts while A reads it, and ends when A stops.
        Assert.Equal([0, 1, 2], await ReadTicksAsync(calc, 3).DefaultTimeout());
        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("ticks").Count == 0);

        // A drops off the mesh without unsubscribing: the provider forgets its subscriptions and detaches.
        await a.DropAsync();
        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("moved").Count == 0 && registration.GetSubscribers("onEcho").Count == 0);
        Assert.Equal([b.Id], registration.GetSubscribers("reset"));
        Assert.False(calculator.HasMovedListeners);
        Assert.False(calculator.HasEchoListeners);

        // B still gets what it subscribed to.
        await atB.CallAsync("clear").DefaultTimeout();
        await resetAtB.Reader.ReadAsync().AsTask().DefaultTimeout();
    }

    [Fact]
    public async Task A_provider_that_leaves_makes_the_service_unavailable_and_a_new_provider_resumes_the_calls()
    {
        await using TcpServiceNode caller = await TcpServiceNode.StartAsync();
        ServiceReference reference = caller.Services.Get("calc");
        var referenceEvents = Channel.CreateUnbounded<(string Kind, NodeId Provider)>();
        var servicesEvents = Channel.CreateUnbounded<(string Kind, string Service, NodeId Provider)>();
        reference.Available += (_, e) => referenceEvents.Writer.TryWrite(("available", e.Provider));
        reference.Unavailable += (_, e) => referenceEvents.Writer.TryWrite(("unavailable", e.Provider));
        caller.Services.ServiceAvailable += (_, e) => servicesEvents.Writer.TryWrite(("available", e.Service.Id, e.Provider));
        caller.Services.ServiceUnavailable += (_, e) => servicesEvents.Writer.TryWrite(("unavailable", e.Service.Id, e.Provider));
        ICalculator calc = reference.As<ICalculator>();

        await using TcpServiceNode first = await TcpServiceNode.StartAsync(peers: caller.EndPoint);
        first.Services.Register<ICalculator>("calc", new Calculator());
        Assert.Equal(("available", first.Id), await referenceEvents.Reader.ReadAsync().AsTask().DefaultTimeout());
        Assert.Equal(("available", "calc", first.Id), await servicesEvents.Reader.ReadAsync().AsTask().DefaultTimeout());
        Assert.Equal(3, await calc.AddAsync(1, 2).DefaultTimeout());

        // The provider's node leaves: its services stop, then its network and its sockets go.
        await first.LeaveAsync();
        Assert.Equal(("unavailable", first.Id), await referenceEvents.Reader.ReadAsync().AsTask().DefaultTimeout());
        Assert.Equal(("unavailable", "calc", first.Id), await servicesEvents.Reader.ReadAsync().AsTask().DefaultTimeout());
        Assert.False(reference.IsAvailable);
        Assert.Empty(caller.Services.AvailableServices);
        ServiceCallException none = await Assert.ThrowsAsync<ServiceCallException>(() => calc.AddAsync(1, 2).DefaultTimeout());
        Assert.Equal(ServiceCallFailure.NotAvailable, none.Failure);
        await TaskTimeoutExtensions.WaitUntilAsync(() => caller.Network.Nodes.Count == 0);

        // A new network (new node id, new socket) offers the same id: available again, and the same proxy works.
        await using TcpServiceNode second = await TcpServiceNode.StartAsync(peers: caller.EndPoint);
        Assert.NotEqual(first.Id, second.Id);
        second.Services.Register<ICalculator>("calc", new Calculator());
        Assert.Equal(("available", second.Id), await referenceEvents.Reader.ReadAsync().AsTask().DefaultTimeout());
        Assert.Equal(("available", "calc", second.Id), await servicesEvents.Reader.ReadAsync().AsTask().DefaultTimeout());
        Assert.Equal(second.Id, Assert.Single(reference.Providers).Node);
        Assert.Equal(30, await calc.AddAsync(10, 20).DefaultTimeout());
        Assert.Equal(6, await reference.CallAsync<int>("sum", 1, 2, 3).DefaultTimeout());
        Assert.Equal(["calc"], caller.Services.AvailableServices.Select(s => s.Id));

        // Exactly one transition each way and back: no duplicate or stale availability events.
        await TaskTimeoutExtensions.ExpectNothingAsync();
        Assert.False(referenceEvents.Reader.TryRead(out _));
        Assert.False(servicesEvents.Reader.TryRead(out _));
    }

    [Fact]
    public async Task Calls_pending_on_a_provider_process_that_is_killed_fail_within_a_second()
    {
        const int calls = 20;
        await using ServiceHostProcess host = ServiceHostProcess.Start();
        (string hostId, int port) = await host.WaitReadyAsync();
        await using TcpServiceNode caller = await TcpServiceNode.StartAsync(peers: new DnsEndPoint(IPAddress.Loopback.ToString(), port));
        ServiceReference service = caller.Services.Get(ServiceHostProcess.ServiceId);
        await service.WaitUntilAvailableAsync().DefaultTimeout();
        Assert.Equal(hostId, Assert.Single(service.Providers).Node.ToString());
        Assert.Equal("across processes", await service.CallAsync<string>("echo", "across processes").DefaultTimeout());

        var clock = new Stopwatch();
        var failedAfter = new TimeSpan[calls];
        Task<int>[] hanging = [.. Enumerable.Range(0, calls).Select(_ => service.CallAsync<int>("hang"))];
        Task[] observed = [.. hanging.Select((call, i) => call.ContinueWith(
            _ => failedAfter[i] = clock.Elapsed,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default))];

        // Every call is out: waiting here for its answer, and running there.
        await TaskTimeoutExtensions.WaitUntilAsync(() => caller.Services.PendingCalls == calls);
        await host.WaitForRunningHangsAsync(calls);
        Assert.DoesNotContain(hanging, call => call.IsCompleted);
        Assert.Empty(host.Problems);

        clock.Start();
        await host.Process.KillAsync();
        await Task.WhenAll(observed).DefaultTimeout(TimeSpan.FromSeconds(10));
        TimeSpan slowest = failedAfter.Max();
        output.WriteLine($"{calls} calls failed {failedAfter.Min().TotalMilliseconds:F0}–{slowest.TotalMilliseconds:F0} ms after the kill (signal and exit took part of it).");

        foreach (Task<int> call in hanging)
        {
            ServiceCallException failure = Assert.IsType<ServiceCallException>(call.Exception?.InnerException);
            Assert.Equal(ServiceCallFailure.ProviderLeft, failure.Failure);
            Assert.Equal(hostId, failure.Provider?.ToString());
            Assert.Equal("hang", failure.Method);
        }

        Assert.True(slowest < TimeSpan.FromSeconds(1), $"The last pending call failed {slowest.TotalMilliseconds:F0} ms after the kill.");
        Assert.Equal(0, caller.Services.PendingCalls);
        await TaskTimeoutExtensions.WaitUntilAsync(() => !service.IsAvailable);
        ServiceCallException gone = await Assert.ThrowsAsync<ServiceCallException>(() => service.CallAsync<string>("echo", "anyone?").DefaultTimeout());
        Assert.Equal(ServiceCallFailure.NotAvailable, gone.Failure);
    }

    [Fact]
    public async Task Ten_thousand_concurrent_calls_over_tcp_all_complete_with_the_right_results()
    {
        const int count = 10_000;
        await using TcpServiceNode provider = await TcpServiceNode.StartAsync();
        await using TcpServiceNode caller = await TcpServiceNode.StartAsync(peers: provider.EndPoint);
        using ServiceRegistration registration = provider.Services.Register<ICalculator>("calc", new Calculator());
        ServiceReference reference = caller.Services.Get("calc");
        await reference.WaitUntilAvailableAsync().DefaultTimeout();
        ICalculator calc = reference.As<ICalculator>();
        Assert.Equal(2, await calc.AddAsync(1, 1).DefaultTimeout());

        var clock = Stopwatch.StartNew();
        var calls = new Task<int>[count];
        for (int i = 0; i < count; i++)
        {
            calls[i] = calc.AddAsync(i, count - (2 * i));
        }

        int[] results = await Task.WhenAll(calls).DefaultTimeout(TimeSpan.FromSeconds(30));
        output.WriteLine($"{count} concurrent calls over TCP+TLS in {clock.ElapsedMilliseconds} ms");
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(count - i, results[i]);
        }

        Assert.Equal(0, caller.Services.PendingCalls);
    }

    private static async Task AssertChainAsync(TcpServiceNode a, TcpServiceNode b, TcpServiceNode c)
    {
        await TcpServiceNode.WaitForMeshAsync(a, b, c);

        // A and C reach each other only through B.
        Assert.Equal(1, a.Transport.ConnectionCount);
        Assert.Equal(1, c.Transport.ConnectionCount);
        Assert.Equal(2, b.Transport.ConnectionCount);
    }

    private static void AssertShape(Shape original, int factor, Shape? scaled)
    {
        Assert.NotNull(scaled);
        Assert.Equal(original.Name, scaled.Name);
        Assert.Equal(original.Created, scaled.Created);
        Assert.Equal(original.Corners.Select(p => new Point(p.X * factor, p.Y * factor)), scaled.Corners);
    }

    private static async Task<List<int>> ReadTicksAsync(ICalculator calc, int count)
    {
        using var stop = new CancellationTokenSource(TaskTimeoutExtensions.DefaultTimeoutValue);
        var ticks = new List<int>();
        await foreach (int tick in calc.Ticks(stop.Token))
        {
            ticks.Add(tick);
            if (ticks.Count == count)
            {
                break;
            }
        }

        return ticks;
    }
}
