using System.Collections.Concurrent;
using Ataraxia.Cbor;
using Ataraxia.Testing;

namespace Ataraxia.ServicesTests;

/// <summary>Services registered by definition and handler: methods named at run time, the caller's node id, errors, through a router (0 → 1 → 2).</summary>
public sealed class HandlerServiceTests : IAsyncLifetime
{
    private static readonly ServiceDefinition Shell = new(
        "shell",
        [
            new ServiceMethodDefinition("echo", "Returns its arguments.", "any", [new ServiceParameterDefinition("args", null, Optional: true, Rest: true, "any")]),
            new ServiceMethodDefinition("whoami", null, "string", []),
            new ServiceMethodDefinition("fail", null, "void", []),
        ],
        []);

    private readonly ConcurrentQueue<ServiceInvocation> _invocations = new();
    private ServiceMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await ServiceMesh.CreateAsync(3);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task A_call_through_a_router_reaches_the_handler_with_the_callers_id_the_method_and_the_arguments()
    {
        using ServiceRegistration registration = _mesh[2].Register("shell", Shell, HandleAsync);
        ServiceReference shell = _mesh[0].Get("shell");
        await shell.WaitUntilAvailableAsync().DefaultTimeout();

        CborValue? result = await shell.CallAsync<CborValue>("echo", ["a", 1, true, null], CancellationToken.None).DefaultTimeout();

        Assert.Equal(new CborArray(["a", 1, true, CborValue.Null]), result);
        ServiceInvocation invocation = Assert.Single(_invocations);
        Assert.Equal(_mesh.Mesh[0].Id, invocation.Caller);
        Assert.Equal("shell", invocation.Service);
        Assert.Equal("echo", invocation.Method);
        Assert.Equal(Shell, registration.Definition);

        // Other nodes see the definition as given, methods and parameters included.
        ServiceDefinition seen = Assert.IsType<ServiceDefinition>(shell.Definition);
        Assert.Equal(["echo", "whoami", "fail"], seen.Methods.Select(m => m.Name));
        Assert.True(seen.FindMethod("echo")!.Parameters[0].Rest);
        Assert.Equal("Returns its arguments.", seen.FindMethod("echo")!.Description);
    }

    [Fact]
    public async Task The_handler_tells_callers_apart_and_can_refuse_one()
    {
        NodeId allowed = _mesh.Mesh[1].Id;
        using ServiceRegistration registration = _mesh[2].Register("shell", Shell, (invocation, _) =>
            invocation.Caller == allowed
                ? ValueTask.FromResult<CborValue>(invocation.Caller.ToString())
                : throw new UnauthorizedAccessException($"Node {invocation.Caller} may not call `{invocation.Method}`."));
        ServiceReference fromAllowed = _mesh[1].Get("shell");
        ServiceReference fromOther = _mesh[0].Get("shell");
        await Task.WhenAll(fromAllowed.WaitUntilAvailableAsync(), fromOther.WaitUntilAvailableAsync()).DefaultTimeout();

        CborValue? whoami = await fromAllowed.CallAsync<CborValue>("whoami", [], CancellationToken.None).DefaultTimeout();
        var refused = await Assert.ThrowsAsync<ServiceCallException>(() => fromOther.CallAsync<CborValue>("whoami", [], CancellationToken.None).DefaultTimeout());

        Assert.Equal(allowed.ToString(), whoami?.AsString());
        Assert.Equal(ServiceCallFailure.RemoteError, refused.Failure);
        Assert.Equal($"Node {_mesh.Mesh[0].Id} may not call `whoami`.", refused.RemoteMessage);
        Assert.Equal(typeof(UnauthorizedAccessException).FullName, refused.RemoteType);
    }

    [Fact]
    public async Task A_method_the_definition_does_not_list_is_refused_before_the_handler_runs()
    {
        using ServiceRegistration registration = _mesh[2].Register("shell", Shell, HandleAsync);
        ServiceReference shell = _mesh[0].Get("shell");
        await shell.WaitUntilAvailableAsync().DefaultTimeout();

        var error = await Assert.ThrowsAsync<ServiceCallException>(() => shell.CallAsync<CborValue>("rm", ["-rf"], CancellationToken.None).DefaultTimeout());

        Assert.Equal(ServiceCallFailure.RemoteError, error.Failure);
        Assert.Contains("has no method `rm`", error.Message, StringComparison.Ordinal);
        Assert.Empty(_invocations);
    }

    [Fact]
    public async Task A_failing_handler_fails_the_call_with_its_message()
    {
        using ServiceRegistration registration = _mesh[2].Register("shell", Shell, HandleAsync);
        ServiceReference shell = _mesh[0].Get("shell");
        await shell.WaitUntilAvailableAsync().DefaultTimeout();

        var error = await Assert.ThrowsAsync<ServiceCallException>(() => shell.CallAsync<CborValue>("fail", [], CancellationToken.None).DefaultTimeout());

        Assert.Equal(ServiceCallFailure.RemoteError, error.Failure);
        Assert.Equal("it failed", error.RemoteMessage);
    }

    [Fact]
    public async Task A_call_on_the_providing_node_names_that_node_as_the_caller()
    {
        using ServiceRegistration registration = _mesh[2].Register("shell", Shell, HandleAsync);
        ServiceReference shell = _mesh[2].Get("shell");

        CborValue? result = await shell.CallAsync<CborValue>("whoami", [], CancellationToken.None).DefaultTimeout();

        Assert.Equal(_mesh.Mesh[2].Id.ToString(), result?.AsString());
        Assert.Equal(_mesh.Mesh[2].Id, Assert.Single(_invocations).Caller);
    }

    [Fact]
    public async Task Disposing_the_registration_withdraws_the_service()
    {
        ServiceRegistration registration = _mesh[2].Register("shell", Shell, HandleAsync);
        ServiceReference shell = _mesh[0].Get("shell");
        await shell.WaitUntilAvailableAsync().DefaultTimeout();

        await registration.DisposeAsync();

        await TaskTimeoutExtensions.WaitUntilAsync(() => !shell.IsAvailable);
        Assert.Empty(_mesh[0].AvailableServices);
    }

    [Fact]
    public void Definitions_that_do_not_fit_are_refused()
    {
        Assert.Throws<ArgumentException>(() => _mesh[2].Register("other", Shell, HandleAsync));
        Assert.Throws<ArgumentException>(() => _mesh[2].Register("shell", Shell with { Events = [new ServiceEventDefinition("changed", null, [])] }, HandleAsync));
        Assert.Throws<ArgumentException>(() => _mesh[2].Register("shell", Shell with { Methods = [.. Shell.Methods, Shell.Methods[0]] }, HandleAsync));
        Assert.Throws<ArgumentNullException>(() => _mesh[2].Register("shell", Shell, null!));

        using ServiceRegistration registration = _mesh[2].Register("shell", Shell, HandleAsync);
        Assert.Throws<InvalidOperationException>(() => _mesh[2].Register("shell", Shell, HandleAsync));
    }

    private ValueTask<CborValue> HandleAsync(ServiceInvocation invocation, CancellationToken cancellationToken)
    {
        _invocations.Enqueue(invocation);
        return invocation.Method switch
        {
            "echo" => ValueTask.FromResult<CborValue>(invocation.Arguments),
            "whoami" => ValueTask.FromResult<CborValue>(invocation.Caller.ToString()),
            _ => throw new InvalidOperationException("it failed"),
        };
    }
}
