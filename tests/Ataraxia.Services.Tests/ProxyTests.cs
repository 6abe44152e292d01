using Ataraxia.Cbor;
using Ataraxia.Testing;

namespace Ataraxia.ServicesTests;

/// <summary>Typed proxies: every supported signature, errors, cancellation and mapping, through a router (0 → 1 → 2).</summary>
public sealed class ProxyTests : IAsyncLifetime
{
    private ServiceMesh _mesh = null!;
    private Calculator _implementation = null!;
    private ServiceRegistration _registration = null!;
    private ICalculator _calc = null!;

    public async Task InitializeAsync()
    {
        _mesh = await ServiceMesh.CreateAsync(3);
        _implementation = new Calculator();
        _registration = _mesh[2].Register<ICalculator>("calc", _implementation);
        ServiceReference reference = _mesh[0].Get("calc");
        await reference.WaitUntilAvailableAsync().DefaultTimeout();
        _calc = reference.As<ICalculator>();
    }

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Task_of_T_returns_the_result() => Assert.Equal(42, await _calc.AddAsync(40, 2).DefaultTimeout());

    [Fact]
    public async Task ValueTask_of_T_with_a_token_returns_the_result()
    {
        using var cts = new CancellationTokenSource();
        Assert.Equal("hello", await _calc.EchoAsync("hello", cts.Token).DefaultTimeout());
    }

    [Fact]
    public async Task Task_completes_when_the_provider_ran_the_method()
    {
        await _calc.PingAsync().DefaultTimeout();
        Assert.Equal(1, _implementation.Pings);
    }

    [Fact]
    public async Task ValueTask_completes_when_the_provider_ran_the_method()
    {
        await _calc.ClearAsync(CancellationToken.None).DefaultTimeout();
        Assert.Equal(1, _implementation.Clears);
    }

    [Fact]
    public async Task Records_with_nested_lists_travel_both_ways_with_camel_case_names()
    {
        var shape = new Shape("square", [new Point(1, 2), new Point(3, 4)], new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero));

        Shape scaled = await _calc.ScaleAsync(shape, 3).DefaultTimeout();
        Shape defaulted = await _calc.ScaleAsync(shape).DefaultTimeout();

        Assert.Equal("square", scaled.Name);
        Assert.Equal([new Point(3, 6), new Point(9, 12)], scaled.Corners);
        Assert.Equal(shape.Created, scaled.Created);
        Assert.Equal([new Point(2, 4), new Point(6, 8)], defaulted.Corners);

        // The untyped view shows what travels: camelCase keys.
        CborValue raw = (await _mesh[0].Get("calc").CallAsync<CborValue>("scale", shape, 1).DefaultTimeout())!;
        Assert.Equal(["name", "corners", "created"], raw.AsMap().Keys);
        Assert.Equal(["x", "y"], raw.AsMap()["corners"].AsArray()[0].AsMap().Keys);
    }

    [Fact]
    public async Task Params_arrays_travel_as_separate_arguments()
    {
        Assert.Equal(10, await _calc.SumAsync(1, 2, 3, 4).DefaultTimeout());
        Assert.Equal(0, await _calc.SumAsync().DefaultTimeout());
        Assert.Equal(6, await _mesh[0].Get("calc").CallAsync<int>("sum", 1, 2, 3).DefaultTimeout());
    }

    [Fact]
    public async Task Null_travels_as_null() => Assert.Null(await _calc.MaybeAsync(null).DefaultTimeout());

    [Fact]
    public async Task A_remote_exception_arrives_with_its_message_and_type()
    {
        ServiceCallException error = await Assert.ThrowsAsync<ServiceCallException>(() => _calc.FailAsync("boom").DefaultTimeout());

        Assert.Equal(ServiceCallFailure.RemoteError, error.Failure);
        Assert.Equal("boom", error.RemoteMessage);
        Assert.Equal("boom (method `fail` on `calc`)", error.Message);
        Assert.Equal(typeof(InvalidOperationException).FullName, error.RemoteType);
        Assert.Equal(_mesh[2].Network.Id, error.Provider);
        Assert.Equal(("calc", "fail"), (error.Service, error.Method));
    }

    [Fact]
    public async Task Cancelling_a_call_completes_it_as_cancelled_at_once()
    {
        using var cts = new CancellationTokenSource();
        Task<int> call = _calc.WaitForCancellationAsync(cts.Token);
        await TaskTimeoutExtensions.WaitUntilAsync(() => _mesh[0].PendingCalls == 1);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.DefaultTimeout());
        Assert.Equal(0, _mesh[0].PendingCalls);
    }

    [Fact]
    public async Task Unknown_methods_and_wrong_argument_types_fail_with_clear_remote_errors()
    {
        ServiceReference calc = _mesh[0].Get("calc");

        ServiceCallException missing = await Assert.ThrowsAsync<ServiceCallException>(() => calc.CallAsync<int>("nope").DefaultTimeout());
        ServiceCallException wrongType = await Assert.ThrowsAsync<ServiceCallException>(() => calc.CallAsync<int>("add", "one", 2).DefaultTimeout());
        ServiceCallException tooFew = await Assert.ThrowsAsync<ServiceCallException>(() => calc.CallAsync<int>("add", 1).DefaultTimeout());

        Assert.Contains("has no method `nope`", missing.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(MissingMethodException).FullName, missing.RemoteType);
        Assert.Contains("Argument 0 (`a`) could not be read as Int32", wrongType.Message, StringComparison.Ordinal);
        Assert.Contains("Argument 1 (`b`) is missing", tooFew.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_result_that_does_not_fit_the_requested_type_is_a_clear_local_error()
    {
        ServiceCallException error = await Assert.ThrowsAsync<ServiceCallException>(() => _mesh[0].Get("calc").CallAsync<int>("echo", "text").DefaultTimeout());

        Assert.Equal(ServiceCallFailure.InvalidResult, error.Failure);
        Assert.Contains("could not be read as Int32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_argument_that_cannot_be_mapped_fails_before_sending()
    {
        var tooBig = long.MaxValue;
        ServiceCallException error = await Assert.ThrowsAsync<ServiceCallException>(() => _mesh[0].Get("calc").CallAsync<int>("add", tooBig, 1).DefaultTimeout());

        Assert.Equal(ServiceCallFailure.InvalidArgument, error.Failure);
        Assert.Contains("Argument 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cancellation_token_among_params_arguments_is_refused()
    {
        ServiceReference calc = _mesh[0].Get("calc");
        Assert.Throws<ArgumentException>(() => { _ = calc.CallAsync<int>("add", 1, 2, CancellationToken.None); });
    }

    [Fact]
    public async Task A_call_to_a_service_nobody_offers_fails_at_once()
    {
        ServiceCallException error = await Assert.ThrowsAsync<ServiceCallException>(() => _mesh[0].Get("nobody").As<ICalculator>().AddAsync(1, 2).DefaultTimeout());
        Assert.Equal(ServiceCallFailure.NotAvailable, error.Failure);
    }

    [Fact]
    public async Task Calls_to_a_service_on_the_same_node_run_locally_with_the_same_semantics()
    {
        ICalculator local = _mesh[2].Get("calc").As<ICalculator>();

        Assert.Equal(3, await local.AddAsync(1, 2).DefaultTimeout());
        ServiceCallException error = await Assert.ThrowsAsync<ServiceCallException>(() => local.FailAsync("near").DefaultTimeout());
        Assert.Equal(("near", ServiceCallFailure.RemoteError), (error.RemoteMessage, error.Failure));
    }

    [Fact]
    public void Interfaces_with_members_that_cannot_be_called_remotely_are_refused_with_the_member_named()
    {
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => _mesh[0].Get("calc").As<ISynchronous>());
        Assert.Contains("ISynchronous.Add", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => _mesh[0].Get("calc").As<Calculator>());
        Assert.Throws<InvalidOperationException>(() => _mesh[0].Get("calc").As<IOverloaded>());
    }

    [Fact]
    public async Task The_definition_lists_methods_and_events_with_type_ids()
    {
        ServiceDefinition definition = _mesh[0].Get("calc").Definition!;

        Assert.Equal("number", definition.FindMethod("add")!.ReturnType);
        Assert.Equal("void", definition.FindMethod("ping")!.ReturnType);
        Assert.Equal("Shape", definition.FindMethod("scale")!.ReturnType);
        ServiceParameterDefinition factor = definition.FindMethod("scale")!.Parameters[1];
        Assert.Equal(("factor", true, false, "number"), (factor.Name, factor.Optional, factor.Rest, factor.Type));
        ServiceParameterDefinition values = Assert.Single(definition.FindMethod("sum")!.Parameters);
        Assert.True(values.Rest);
        Assert.Equal(["moved", "onEcho", "reset", "ticks"], definition.Events.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(definition.Methods, m => m.Name == "ticks");
        await Task.CompletedTask;
    }

    public interface ISynchronous
    {
        int Add(int a, int b);
    }

    public interface IOverloaded
    {
        Task<int> AddAsync(int a, int b);

        Task<int> AddAsync(int a, int b, int c);
    }
}
