using System.Collections.Concurrent;
using System.Diagnostics;
using Ataraxia.Testing;

namespace Ataraxia.ServicesTests;

/// <summary>
/// The <c>Ataraxia.Services</c> activity source. A listener sees the activities of every test running at the same time,
/// so each test registers its service under an id of its own and looks only at activities for that id.
/// </summary>
public sealed class TracingTests : IDisposable
{
    private readonly string _service = $"calc-{Guid.NewGuid():N}";
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public TracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Services.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (Equals(activity.GetTagItem("rpc.service"), _service))
                {
                    _stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task A_call_through_a_router_has_a_client_activity_on_the_caller_and_a_server_activity_on_the_provider()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(3);
        using ServiceRegistration registration = mesh[2].Register<ICalculator>(_service, new Calculator());
        ServiceReference calc = mesh[0].Get(_service);
        await calc.WaitUntilAvailableAsync().DefaultTimeout();

        using Activity parent = new Activity("test").Start();
        Assert.Equal(5, await calc.CallAsync<int>("add", 2, 3).DefaultTimeout());
        Assert.Same(parent, Activity.Current);

        (Activity client, Activity server) = await WaitForCallAsync();
        Assert.Equal(ActivityKind.Client, client.Kind);
        Assert.Equal(ActivityKind.Server, server.Kind);
        foreach (Activity activity in new[] { client, server })
        {
            Assert.Equal($"{_service}/add", activity.DisplayName);
            Assert.Equal("ataraxia", activity.GetTagItem("rpc.system"));
            Assert.Equal("add", activity.GetTagItem("rpc.method"));
            Assert.Equal(mesh[2].Network.Id.ToString(), activity.GetTagItem("ataraxia.service.provider"));
            Assert.Equal(mesh[0].Network.Id.ToString(), activity.GetTagItem("ataraxia.service.caller"));
            Assert.Equal("test", activity.GetTagItem("ataraxia.network"));
            Assert.Equal(ActivityStatusCode.Unset, activity.Status);
            Assert.Null(activity.GetTagItem("error.type"));
        }

        // The call id ties the two together; trace context does not travel, so the server activity starts a trace of its own.
        Assert.NotNull(client.GetTagItem("ataraxia.service.call_id"));
        Assert.Equal(client.GetTagItem("ataraxia.service.call_id"), server.GetTagItem("ataraxia.service.call_id"));
        Assert.Equal(parent.Id, client.ParentId);
        Assert.NotEqual(client.TraceId, server.TraceId);
    }

    [Fact]
    public async Task A_remote_exception_marks_both_activities_as_errors()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(2);
        using ServiceRegistration registration = mesh[1].Register<ICalculator>(_service, new Calculator());
        ServiceReference calc = mesh[0].Get(_service);
        await calc.WaitUntilAvailableAsync().DefaultTimeout();

        var error = await Assert.ThrowsAsync<ServiceCallException>(() => calc.CallAsync("fail", "boom").DefaultTimeout());
        Assert.Equal(ServiceCallFailure.RemoteError, error.Failure);

        (Activity client, Activity server) = await WaitForCallAsync();
        Assert.Equal(ActivityStatusCode.Error, client.Status);
        Assert.Equal(error.Message, client.StatusDescription);
        Assert.Equal(nameof(ServiceCallFailure.RemoteError), client.GetTagItem("error.type"));
        ActivityEvent clientException = Assert.Single(client.Events, e => e.Name == "exception");
        Assert.Contains(clientException.Tags, t => t.Key == "exception.type" && Equals(t.Value, typeof(ServiceCallException).FullName));

        Assert.Equal(ActivityStatusCode.Error, server.Status);
        Assert.Equal("boom", server.StatusDescription);
        Assert.Equal(typeof(InvalidOperationException).FullName, server.GetTagItem("error.type"));
        ActivityEvent serverException = Assert.Single(server.Events, e => e.Name == "exception");
        Assert.Contains(serverException.Tags, t => t.Key == "exception.message" && Equals(t.Value, "boom"));
    }

    [Fact]
    public async Task A_call_the_local_node_serves_has_only_a_client_activity()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(1);
        using ServiceRegistration registration = mesh[0].Register<ICalculator>(_service, new Calculator());
        ServiceReference calc = mesh[0].Get(_service);
        await calc.WaitUntilAvailableAsync().DefaultTimeout();

        Assert.Equal(3, await calc.CallAsync<int>("add", 1, 2).DefaultTimeout());

        Activity client = Assert.Single(_stopped);
        Assert.Equal(ActivityKind.Client, client.Kind);
        Assert.Equal(mesh[0].Network.Id.ToString(), client.GetTagItem("ataraxia.service.provider"));
        Assert.Null(client.GetTagItem("ataraxia.service.call_id"));
    }

    private async Task<(Activity Client, Activity Server)> WaitForCallAsync()
    {
        // The server activity ends once the reply is on its way, possibly after the caller already has it.
        await TaskTimeoutExtensions.WaitUntilAsync(() => _stopped.Count >= 2);
        Assert.Equal(2, _stopped.Count);
        return (Assert.Single(_stopped, a => a.Kind == ActivityKind.Client), Assert.Single(_stopped, a => a.Kind == ActivityKind.Server));
    }
}
