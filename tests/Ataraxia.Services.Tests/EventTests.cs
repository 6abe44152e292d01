using Ataraxia.Cbor;
using Ataraxia.Testing;

namespace Ataraxia.ServicesTests;

/// <summary>Remote events: delivered to the nodes that subscribed, to nobody else, and forgotten when the subscriber goes.</summary>
public sealed class EventTests
{
    [Fact]
    public async Task A_dotnet_event_reaches_subscribers_and_not_other_nodes()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(3);
        var implementation = new Calculator();
        using ServiceRegistration registration = mesh[1].Register<ICalculator>("calc", implementation);
        ServiceReference atZero = mesh[0].Get("calc");
        ServiceReference atTwo = mesh[2].Get("calc");
        await atZero.WaitUntilAvailableAsync().DefaultTimeout();
        await atTwo.WaitUntilAvailableAsync().DefaultTimeout();
        var moved = new TaskCompletionSource<Point>(TaskCreationOptions.RunContinuationsAsynchronously);
        int seenByTwo = 0;
        atTwo.Subscribe<Point>("moved", _ => Interlocked.Increment(ref seenByTwo)).Dispose(); // subscribed and gone again
        ICalculator proxy = atZero.As<ICalculator>();
        EventHandler<Point> handler = (sender, point) =>
        {
            Assert.Same(proxy, sender);
            moved.TrySetResult(point);
        };

        proxy.Moved += handler;
        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("moved") is [NodeId only] && only == mesh[0].Network.Id);
        implementation.Move(3, 4);

        Assert.Equal(new Point(3, 4), await moved.Task.DefaultTimeout());
        Assert.Equal([mesh[0].Network.Id], registration.GetSubscribers("moved"));
        Assert.Equal(0, Volatile.Read(ref seenByTwo));

        proxy.Moved -= handler;
        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("moved").Count == 0);
        Assert.False(implementation.HasMovedListeners);
    }

    [Fact]
    public async Task Custom_delegates_and_plain_event_handlers_map_their_arguments()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(2);
        var implementation = new Calculator();
        using ServiceRegistration registration = mesh[1].Register<ICalculator>("calc", implementation);
        ServiceReference reference = mesh[0].Get("calc");
        await reference.WaitUntilAvailableAsync().DefaultTimeout();
        ICalculator proxy = reference.As<ICalculator>();
        var echoed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reset = new TaskCompletionSource<EventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        proxy.OnEcho += m => echoed.TrySetResult(m);
        proxy.Reset += (_, e) => reset.TrySetResult(e);
        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("onEcho").Count == 1 && registration.GetSubscribers("reset").Count == 1);

        await proxy.EchoAsync("ping").DefaultTimeout();
        await proxy.ClearAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal("ping", await echoed.Task.DefaultTimeout());
        Assert.Same(EventArgs.Empty, await reset.Task.DefaultTimeout());
    }

    [Fact]
    public async Task An_async_enumerable_runs_on_the_provider_only_while_somebody_reads_it()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(2);
        using ServiceRegistration registration = mesh[1].Register<ICalculator>("calc", new Calculator());
        ServiceReference reference = mesh[0].Get("calc");
        await reference.WaitUntilAvailableAsync().DefaultTimeout();
        var received = new List<int>();

        using (var cts = new CancellationTokenSource(TaskTimeoutExtensions.DefaultTimeoutValue))
        {
            await foreach (int tick in reference.As<ICalculator>().Ticks(cts.Token))
            {
                received.Add(tick);
                if (received.Count == 5)
                {
                    break;
                }
            }
        }

        Assert.Equal(5, received.Count);
        Assert.Equal(received.Order(), received);
        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("ticks").Count == 0);
    }

    [Fact]
    public async Task Events_of_a_service_on_the_same_node_are_delivered_locally()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(2);
        var implementation = new Calculator();
        using ServiceRegistration registration = mesh[0].Register<ICalculator>("calc", implementation);
        var moved = new TaskCompletionSource<CborArray>(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable subscription = mesh[0].Get("calc").Subscribe("moved", a => moved.TrySetResult(a));

        implementation.Move(1, 2);

        CborArray arguments = await moved.Task.DefaultTimeout();
        Assert.Equal(1, arguments[0].AsMap()["x"].AsInt64());
        Assert.Equal([mesh[0].Network.Id], registration.GetSubscribers("moved"));
    }

    [Fact]
    public async Task A_subscriber_that_leaves_is_forgotten_by_the_provider()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(3);
        var implementation = new Calculator();
        using ServiceRegistration registration = mesh[1].Register<ICalculator>("calc", implementation);
        foreach (int i in new[] { 0, 2 })
        {
            await mesh[i].Get("calc").WaitUntilAvailableAsync().DefaultTimeout();
            mesh[i].Get("calc").Subscribe("moved", _ => { });
        }

        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("moved").Count == 2);

        await mesh.Mesh.CutAsync(1, 2);

        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("moved").Count == 1);
        Assert.Equal([mesh[0].Network.Id], registration.GetSubscribers("moved"));
        await mesh[0].DisposeAsync();
        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("moved").Count == 0);
        Assert.False(implementation.HasMovedListeners);
    }

    [Fact]
    public async Task A_provider_that_appears_later_gets_the_existing_subscriptions()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(2);
        var moved = new TaskCompletionSource<Point>(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable subscription = mesh[0].Get("calc").Subscribe<Point>("moved", p => moved.TrySetResult(p!));
        var implementation = new Calculator();

        using ServiceRegistration registration = mesh[1].Register<ICalculator>("calc", implementation);
        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("moved").Count == 1);
        implementation.Move(5, 6);

        Assert.Equal(new Point(5, 6), await moved.Task.DefaultTimeout());
    }

    [Fact]
    public async Task A_local_listener_that_came_first_gets_the_events_of_a_service_registered_later_on_the_same_node()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(1);
        var moved = new TaskCompletionSource<Point>(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable subscription = mesh[0].Get("calc").Subscribe<Point>("moved", p => moved.TrySetResult(p!));
        var implementation = new Calculator();

        using ServiceRegistration registration = mesh[0].Register<ICalculator>("calc", implementation);
        implementation.Move(7, 8);

        Assert.Equal(new Point(7, 8), await moved.Task.DefaultTimeout());
        Assert.Equal([mesh[0].Network.Id], registration.GetSubscribers("moved"));
    }

    [Fact]
    public async Task A_throwing_handler_does_not_stop_other_handlers_or_later_events()
    {
        using var logs = new TestLoggerFactory();
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(2, options: new ServicesOptions { LoggerFactory = logs });
        var implementation = new Calculator();
        using ServiceRegistration registration = mesh[1].Register<ICalculator>("calc", implementation);
        ServiceReference reference = mesh[0].Get("calc");
        await reference.WaitUntilAvailableAsync().DefaultTimeout();
        var seen = new List<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reference.Subscribe<Point>("moved", _ => throw new InvalidOperationException("handler bug"));
        reference.Subscribe<Point>("moved", p =>
        {
            lock (seen)
            {
                seen.Add(p!.X);
                if (seen.Count == 3)
                {
                    done.TrySetResult();
                }
            }
        });
        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("moved").Count == 1);

        implementation.Move(1, 0);
        implementation.Move(2, 0);
        implementation.Move(3, 0);

        await done.Task.DefaultTimeout();
        Assert.Equal([1, 2, 3], seen);
        await TaskTimeoutExtensions.WaitUntilAsync(() => logs.Errors.Count() == 3);
        Assert.All(logs.Errors, e => Assert.Equal(406, e.EventId.Id));
    }
}
