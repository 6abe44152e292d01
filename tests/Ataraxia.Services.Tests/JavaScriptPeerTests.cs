using System.Threading.Channels;
using Ataraxia.Cbor;
using Ataraxia.Testing;

namespace Ataraxia.ServicesTests;

/// <summary>
/// A .NET node talking to a peer that behaves like JavaScript's services: the peer is a bare network that sends and reads
/// the recorded vector messages byte for byte (WIRE.md §13), including the JavaScript bugs a node must tolerate.
/// </summary>
public sealed class JavaScriptPeerTests : IAsyncLifetime
{
    private Mesh _mesh = null!;
    private Services _services = null!;
    private NamedGroup _peerGroup = null!;
    private Channel<Message> _peerInbox = null!;
    private CancellationTokenSource _stop = null!;

    private Network Peer => _mesh[1];

    public async Task InitializeAsync()
    {
        _mesh = await Mesh.CreateAsync(2);
        await _mesh.LinkAsync(0, 1);
        await _mesh.WaitForVisibilityAsync();
        _stop = new CancellationTokenSource();
        _peerInbox = Channel.CreateUnbounded<Message>();
        _ = Task.Run(async () =>
        {
            await foreach (Message message in Peer.ReadMessagesAsync(_stop.Token))
            {
                await _peerInbox.Writer.WriteAsync(message);
            }
        });
        _peerGroup = new NamedGroup(Peer, Services.GroupName);
        await _peerGroup.JoinAsync();
        _services = new Services(_mesh[0]);
        await _services.JoinAsync();
        await TaskTimeoutExtensions.WaitUntilAsync(() => _services.MemberCount() == 1 && _peerGroup.Members.Count == 1);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _services.DisposeAsync();
        await _peerGroup.DisposeAsync();
        await _mesh.DisposeAsync();
        _stop.Dispose();
    }

    [Fact]
    public async Task A_new_member_is_asked_for_its_list_with_the_recorded_bytes()
    {
        Message request = await ReceiveAsync("at:service:list-request");
        AssertBytes("services/list-request", request);
    }

    [Fact]
    public async Task As_a_provider_the_node_answers_list_requests_calls_and_subscriptions_byte_for_byte()
    {
        var echo = new JsEcho();
        using ServiceRegistration registration = _services.Register<WireVectorTests.IJsEcho>("echo", echo);
        AssertBytes("services/available", await ReceiveAsync("at:service:available"));

        await SendAsync("at:service:list-request", new CborMap { ["lastVersion"] = 0 });
        AssertBytes("services/list-reply", await ReceiveAsync("at:service:list-reply"));

        await SendVectorAsync("services/invoke-request");
        AssertBytes("services/invoke-reply", await ReceiveAsync("at:service:invoke-reply"));

        await SendVectorAsync("services/invoke-request-2");
        CborMap error = (await ReceiveAsync("at:service:invoke-reply")).Data.AsMap();
        CborMap expected = Vector("services/invoke-reply-error");
        Assert.Equal(expected["id"], error["id"]);
        Assert.Equal(expected["error"], error["error"]);
        Assert.Equal(["id", "error", "errorType"], error.Keys);

        await SendAsync("at:service:invoke-request", new CborMap { ["id"] = 3, ["service"] = "nope", ["method"] = "echo", ["arguments"] = new CborArray([]) });
        AssertBytes("services/invoke-reply-missing-service", await ReceiveAsync("at:service:invoke-reply"));

        await SendVectorAsync("services/event-subscribe");
        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("onEcho").Count == 1);
        echo.Raise("hello");
        AssertBytes("services/event-emit", await ReceiveAsync("at:service:event-emit"));

        await SendVectorAsync("services/event-unsubscribe");
        await TaskTimeoutExtensions.WaitUntilAsync(() => registration.GetSubscribers("onEcho").Count == 0);
        Assert.False(echo.HasListeners);

        await registration.DisposeAsync();
        AssertBytes("services/unavailable", await ReceiveAsync("at:service:unavailable"));
    }

    [Fact]
    public async Task A_list_request_with_the_current_version_gets_no_answer()
    {
        await SendAsync("at:service:list-request", new CborMap { ["lastVersion"] = 0 });
        await SendAsync("at:service:invoke-request", new CborMap { ["id"] = 9, ["service"] = "nope", ["method"] = "x", ["arguments"] = new CborArray([]) });

        // The reply to the later call arrives; nothing was sent for the list request before it.
        Message next = await ReceiveAsync(null, skipListRequests: true);
        Assert.Equal("at:service:invoke-reply", next.Type);
    }

    [Fact]
    public async Task As_a_caller_the_node_uses_a_javascript_provider_and_ignores_its_second_reply_after_an_error()
    {
        ServiceReference echo = _services.Get("echo");
        await SendVectorAsync("services/available");
        await echo.WaitUntilAvailableAsync().DefaultTimeout();
        Assert.Equal("echo", echo.Definition!.FindMethod("echo")!.Name);

        Task<string?> failing = echo.CallAsync<string>("echo", "boom");
        Message request = await ReceiveAsync("at:service:invoke-request");
        AssertBytes("services/invoke-request", request, ignoreId: true, arguments: "boom");
        long id = request.Data.AsMap()["id"].AsInt64();
        await SendAsync("at:service:invoke-reply", new CborMap { ["id"] = id, ["error"] = "boom (method `echo` on `echo`)" });
        await SendAsync("at:service:invoke-reply", new CborMap { ["id"] = id, ["result"] = CborValue.Undefined });

        ServiceCallException error = await Assert.ThrowsAsync<ServiceCallException>(() => failing.DefaultTimeout());
        Assert.Equal(("boom", null), (error.RemoteMessage, error.RemoteType));

        Task<string?> working = echo.CallAsync<string>("echo", "hello");
        Message second = await ReceiveAsync("at:service:invoke-request");
        Assert.Equal(id + 1, second.Data.AsMap()["id"].AsInt64());
        await SendAsync("at:service:invoke-reply", new CborMap { ["id"] = id + 1, ["result"] = "hello" });
        Assert.Equal("hello", await working.DefaultTimeout());

        Task voidCall = echo.CallAsync("echo", "x");
        Message third = await ReceiveAsync("at:service:invoke-request");
        await SendAsync("at:service:invoke-reply", new CborMap { ["id"] = third.Data.AsMap()["id"], ["result"] = CborValue.Undefined });
        await voidCall.DefaultTimeout();
        Assert.Equal(0, _services.PendingCalls);

        await SendVectorAsync("services/unavailable");
        await TaskTimeoutExtensions.WaitUntilAsync(() => !echo.IsAvailable);
    }

    [Fact]
    public async Task Subscribing_to_a_javascript_provider_sends_the_recorded_messages_and_receives_its_events()
    {
        ServiceReference echo = _services.Get("echo");
        await SendVectorAsync("services/available");
        await echo.WaitUntilAvailableAsync().DefaultTimeout();
        var received = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);

        IDisposable subscription = echo.Subscribe<string>("onEcho", m => received.TrySetResult(m));
        AssertBytes("services/event-subscribe", await ReceiveAsync("at:service:event-subscribe"));
        await SendVectorAsync("services/event-emit");
        Assert.Equal("hello", await received.Task.DefaultTimeout());

        subscription.Dispose();
        AssertBytes("services/event-unsubscribe", await ReceiveAsync("at:service:event-unsubscribe"));
    }

    [Fact]
    public async Task A_version_gap_makes_the_node_ask_for_the_whole_list()
    {
        await ReceiveAsync("at:service:list-request");
        CborMap available = Vector("services/available");
        available["version"] = 5;

        await SendAsync("at:service:available", available);

        Message request = await ReceiveAsync("at:service:list-request");
        Assert.Equal(0, request.Data.AsMap()["lastVersion"].AsInt64());
        await SendVectorAsync("services/list-reply-empty");
        await TaskTimeoutExtensions.WaitUntilAsync(() => !_services.Get("echo").IsAvailable);
    }

    private static CborMap Vector(string name) => CborValue.Decode(VectorBytes(name)).AsMap();

    private static byte[] VectorBytes(string name) => Vectors.Hex(Vectors.Get(name).GetProperty("hex").GetString()!);

    private static void AssertBytes(string vector, Message message, bool ignoreId = false, string? arguments = null)
    {
        Assert.Equal(Vectors.Get(vector).GetProperty("data_type").GetString(), message.Type);
        if (!ignoreId)
        {
            Assert.Equal(Convert.ToHexString(VectorBytes(vector)), Convert.ToHexString(message.RawData.Span));
            return;
        }

        CborMap expected = Vector(vector);
        CborMap actual = message.Data.AsMap();
        expected["id"] = actual["id"];
        if (arguments is not null)
        {
            expected["arguments"] = new CborArray([arguments]);
        }

        Assert.Equal(Convert.ToHexString(expected.Encode()), Convert.ToHexString(message.RawData.Span));
    }

    private Task SendVectorAsync(string name) =>
        Peer.SendEncodedAsync(_mesh[0].Id, Vectors.Get(name).GetProperty("data_type").GetString()!, VectorBytes(name)).DefaultTimeout();

    private Task SendAsync(string type, CborMap payload) => Peer.SendAsync(_mesh[0].Id, type, payload).DefaultTimeout();

    private async Task<Message> ReceiveAsync(string? type, bool skipListRequests = false)
    {
        using var timeout = new CancellationTokenSource(TaskTimeoutExtensions.DefaultTimeoutValue);
        while (true)
        {
            Message message = await _peerInbox.Reader.ReadAsync(timeout.Token);
            if (type is null ? !(skipListRequests && message.Type == "at:service:list-request") : message.Type == type)
            {
                return message;
            }
        }
    }

    private sealed class JsEcho : WireVectorTests.IJsEcho
    {
        public event WireVectorTests.MessageHandler? OnEcho;

        public bool HasListeners => OnEcho is not null;

        public Task<string> EchoAsync(string message) =>
            message == "boom" ? throw new InvalidOperationException("boom") : Task.FromResult(message);

        public void Raise(string message) => OnEcho?.Invoke(message);
    }
}
