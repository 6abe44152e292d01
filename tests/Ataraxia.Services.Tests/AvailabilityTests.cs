using System.Diagnostics;
using Ataraxia.Testing;

namespace Ataraxia.ServicesTests;

/// <summary>Providers coming and going: availability events, round-robin, calls to all, and calls in flight when a provider goes.</summary>
public sealed class AvailabilityTests
{
    [Fact]
    public async Task Provider_restart_raises_unavailable_then_available_and_calls_resume()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(3);
        ServiceReference calc = mesh[0].Get("calc");
        var events = new List<string>();
        calc.Available += (_, e) => { lock (events) { events.Add($"ref+{e.Provider}"); } };
        calc.Unavailable += (_, e) => { lock (events) { events.Add($"ref-{e.Provider}"); } };
        mesh[0].ServiceAvailable += (_, e) => { lock (events) { events.Add($"all+{e.Service.Id}"); } };
        mesh[0].ServiceUnavailable += (_, e) => { lock (events) { events.Add($"all-{e.Service.Id}"); } };
        NodeId provider = mesh[2].Network.Id;

        ServiceRegistration first = mesh[2].Register<ICalculator>("calc", new Calculator());
        await calc.WaitUntilAvailableAsync().DefaultTimeout();
        Assert.Equal(3, await calc.As<ICalculator>().AddAsync(1, 2).DefaultTimeout());
        Assert.Equal(["calc"], mesh[0].AvailableServices.Select(s => s.Id));

        await first.DisposeAsync();
        await TaskTimeoutExtensions.WaitUntilAsync(() => !calc.IsAvailable);
        ServiceCallException gone = await Assert.ThrowsAsync<ServiceCallException>(() => calc.As<ICalculator>().AddAsync(1, 2).DefaultTimeout());
        Assert.Equal(ServiceCallFailure.NotAvailable, gone.Failure);
        Assert.Empty(mesh[0].AvailableServices);

        using ServiceRegistration second = mesh[2].Register<ICalculator>("calc", new Calculator());
        await calc.WaitUntilAvailableAsync().DefaultTimeout();
        Assert.Equal(7, await calc.As<ICalculator>().AddAsync(3, 4).DefaultTimeout());
        await TaskTimeoutExtensions.WaitUntilAsync(() => { lock (events) { return events.Count == 6; } });
        Assert.Equal([$"ref+{provider}", "all+calc", $"ref-{provider}", "all-calc", $"ref+{provider}", "all+calc"], events);
    }

    [Fact]
    public async Task A_provider_node_that_leaves_takes_its_services_with_it()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(2);
        using ServiceRegistration registration = mesh[1].Register<ICalculator>("calc", new Calculator());
        ServiceReference calc = mesh[0].Get("calc");
        await calc.WaitUntilAvailableAsync().DefaultTimeout();

        await mesh.Mesh.CutAsync(0, 1);
        await TaskTimeoutExtensions.WaitUntilAsync(() => !calc.IsAvailable);

        await mesh.Mesh.LinkAsync(0, 1);
        await calc.WaitUntilAvailableAsync().DefaultTimeout();
        Assert.Equal(2, await calc.As<ICalculator>().AddAsync(1, 1).DefaultTimeout());
    }

    [Fact]
    public async Task Calls_are_spread_round_robin_over_three_providers_and_skip_one_that_left()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(4, edges: [(0, 1), (0, 2), (0, 3)]);
        var providers = new[] { new Calculator(), new Calculator(), new Calculator() };
        var registrations = providers.Select((p, i) => mesh[i + 1].Register<ICalculator>("calc", p)).ToArray();
        ServiceReference calc = mesh[0].Get("calc");
        await calc.WaitForProvidersAsync(3);
        ICalculator proxy = calc.As<ICalculator>();

        for (int i = 0; i < 1000; i++)
        {
            await proxy.PingAsync().DefaultTimeout();
        }

        // Round-robin over 3: each gets a third, ±10 %.
        Assert.All(providers, p => Assert.InRange(p.Pings, 300, 367));
        Assert.Equal(1000, providers.Sum(p => p.Pings));

        await registrations[1].DisposeAsync();
        await calc.WaitForProvidersAsync(2);
        int before = providers[1].Pings;
        await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => proxy.PingAsync())).DefaultTimeout();
        Assert.Equal(before, providers[1].Pings);
        Assert.Equal(1100, providers.Sum(p => p.Pings));
        Array.ForEach(registrations, r => r.Dispose());
    }

    [Fact]
    public async Task Call_all_collects_every_answer_and_names_the_provider_that_was_too_slow()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(4, edges: [(0, 1), (0, 2), (0, 3)]);
        using var slowGate = new SemaphoreSlim(0);
        mesh[1].Register<IWho>("who", new Who("one", null));
        mesh[2].Register<IWho>("who", new Who("two", null));
        mesh[3].Register<IWho>("who", new Who("slow", slowGate));
        ServiceReference who = mesh[0].Get("who");
        await who.WaitForProvidersAsync(3);

        ServiceCallAllResult<string> result = await who.CallAllAsync<string>("name", [], TimeSpan.FromMilliseconds(500)).DefaultTimeout();

        Assert.Equal(["one", "two"], result.Replies.Select(r => r.Value).Order(StringComparer.Ordinal));
        Assert.All(result.Replies, r => Assert.True(r.Succeeded));
        Assert.Equal([mesh[3].Network.Id], result.NotAnswered);
        slowGate.Release(10);

        ServiceCallAllResult<string> second = await who.CallAllAsync<string>("name", [], TimeSpan.FromSeconds(10)).DefaultTimeout();
        Assert.Equal(3, second.Replies.Count);
        Assert.Empty(second.NotAnswered);
    }

    [Fact]
    public async Task Call_all_reports_errors_per_provider()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(3);
        mesh[1].Register<ICalculator>("calc", new Calculator());
        mesh[2].Register<ICalculator>("calc", new Calculator());
        ServiceReference calc = mesh[0].Get("calc");
        await calc.WaitForProvidersAsync(2);

        ServiceCallAllResult<object> result = await calc.CallAllAsync<object>("fail", ["no"], TimeSpan.FromSeconds(10)).DefaultTimeout();

        Assert.Equal(2, result.Replies.Count);
        Assert.All(result.Replies, r => Assert.Equal("no", r.Error?.RemoteMessage));
    }

    [Fact]
    public async Task Ten_thousand_concurrent_calls_complete()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(3);
        mesh[2].Register<ICalculator>("calc", new Calculator());
        ServiceReference calc = mesh[0].Get("calc");
        await calc.WaitUntilAvailableAsync().DefaultTimeout();
        ICalculator proxy = calc.As<ICalculator>();

        int[] results = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(i => proxy.AddAsync(i, 1))).DefaultTimeout(TimeSpan.FromSeconds(60));

        Assert.Equal(Enumerable.Range(1, 10_000), results);
        Assert.Equal(0, mesh[0].PendingCalls);
    }

    [Fact]
    public async Task A_provider_that_goes_mid_call_fails_the_pending_calls_within_a_second()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(3);
        var implementation = new Calculator();
        mesh[2].Register<ICalculator>("calc", implementation);
        ServiceReference calc = mesh[0].Get("calc");
        await calc.WaitUntilAvailableAsync().DefaultTimeout();
        Task<int>[] calls = [.. Enumerable.Range(0, 20).Select(_ => calc.As<ICalculator>().WaitForCancellationAsync(CancellationToken.None))];
        await TaskTimeoutExtensions.WaitUntilAsync(() => implementation.Waiting == 20);

        var watch = Stopwatch.StartNew();
        await mesh.Mesh.CutAsync(1, 2);
        Exception[] failures = await Task.WhenAll(calls.Select(c => Assert.ThrowsAsync<ServiceCallException>(() => c.DefaultTimeout())));
        watch.Stop();

        Assert.All(failures, f => Assert.Equal(ServiceCallFailure.ProviderLeft, ((ServiceCallException)f).Failure));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"The calls failed after {watch.Elapsed}.");
        Assert.Equal(0, mesh[0].PendingCalls);
    }

    [Fact]
    public async Task A_call_that_gets_no_answer_times_out()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(2, options: new ServicesOptions { CallTimeout = TimeSpan.FromMilliseconds(300) });
        mesh[1].Register<ICalculator>("calc", new Calculator());
        ServiceReference calc = mesh[0].Get("calc");
        await calc.WaitUntilAvailableAsync().DefaultTimeout();

        ServiceCallException error = await Assert.ThrowsAsync<ServiceCallException>(() => calc.As<ICalculator>().WaitForCancellationAsync(CancellationToken.None).DefaultTimeout());

        Assert.Equal(ServiceCallFailure.Timeout, error.Failure);
        Assert.Equal(0, mesh[0].PendingCalls);
    }

    [Fact]
    public async Task Disposing_services_cancels_the_provider_side_work_and_fails_local_waits()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(2);
        var implementation = new Calculator();
        mesh[1].Register<ICalculator>("calc", implementation);
        ServiceReference calc = mesh[0].Get("calc");
        await calc.WaitUntilAvailableAsync().DefaultTimeout();
        Task<int> call = calc.As<ICalculator>().WaitForCancellationAsync(CancellationToken.None);
        await TaskTimeoutExtensions.WaitUntilAsync(() => implementation.Waiting == 1);

        await mesh[1].DisposeAsync();

        await implementation.Cancelled.DefaultTimeout();
        ServiceCallException error = await Assert.ThrowsAsync<ServiceCallException>(() => call.DefaultTimeout());
        Assert.True(error.Failure is ServiceCallFailure.ProviderLeft or ServiceCallFailure.RemoteError, error.Failure.ToString());
    }

    [Fact]
    public async Task A_caller_that_leaves_mid_call_cancels_the_providers_token()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(3);
        var implementation = new Calculator();
        mesh[2].Register<ICalculator>("calc", implementation);
        ServiceReference calc = mesh[0].Get("calc");
        await calc.WaitUntilAvailableAsync().DefaultTimeout();
        Task<int> call = calc.As<ICalculator>().WaitForCancellationAsync(CancellationToken.None);
        await TaskTimeoutExtensions.WaitUntilAsync(() => implementation.Waiting == 1);

        await mesh.Mesh.CutAsync(0, 1);

        await implementation.Cancelled.DefaultTimeout();
        await TaskTimeoutExtensions.WaitUntilAsync(() => implementation.Waiting == 0);
        Assert.Equal(ServiceCallFailure.ProviderLeft, (await Assert.ThrowsAsync<ServiceCallException>(() => call.DefaultTimeout())).Failure);
    }

    [Fact]
    public async Task A_node_refuses_calls_beyond_its_invocation_limit_instead_of_queueing_them()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(2, options: new ServicesOptions { MaxConcurrentInvocations = 5 });
        mesh[1].Register<ICalculator>("calc", new Calculator());
        ServiceReference calc = mesh[0].Get("calc");
        await calc.WaitUntilAvailableAsync().DefaultTimeout();
        using var cts = new CancellationTokenSource();
        Task<int>[] hanging = [.. Enumerable.Range(0, 5).Select(_ => calc.As<ICalculator>().WaitForCancellationAsync(cts.Token))];
        await TaskTimeoutExtensions.WaitUntilAsync(() => mesh[0].PendingCalls == 5);

        ServiceCallException busy = await Assert.ThrowsAsync<ServiceCallException>(() => calc.As<ICalculator>().AddAsync(1, 2).DefaultTimeout());

        Assert.Contains("busy", busy.Message, StringComparison.Ordinal);
        await cts.CancelAsync();
    }

    public interface IWho
    {
        Task<string> NameAsync();
    }

    private sealed class Who(string name, SemaphoreSlim? gate) : IWho
    {
        public async Task<string> NameAsync()
        {
            if (gate is not null)
            {
                await gate.WaitAsync();
            }

            return name;
        }
    }
}
