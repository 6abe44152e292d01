using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using Ataraxia.Authentication;
using Ataraxia.Internal;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Protocol;

/// <summary>
/// One connection speaking the Ataraxia peer protocol over a duplex byte stream: negotiation and
/// authentication (WIRE.md §5–6), liveness and latency (§8), then routing and data messages.
/// </summary>
/// <remarks>
/// <para>
/// A session runs one read loop and one write loop. The read loop is the only code that parses frames; it hands
/// routing and data messages to <see cref="Incoming"/> and never runs caller code, so a slow consumer only
/// pauses reading (and through it the sender). The write loop drains a bounded queue and writes every message
/// that is ready before it flushes, so many small messages leave in one transport write.
/// </para>
/// <para>
/// Thread safety: <see cref="SendAsync"/>, <see cref="TrySend"/>, <see cref="CloseAsync"/>, <see cref="Abort"/>
/// and the properties may be used from any thread; messages sent from one thread keep their order.
/// <see cref="Incoming"/> has a single reader.
/// </para>
/// <para>
/// The transport's input pipe must be able to buffer a whole frame: its pause threshold must exceed
/// <see cref="PeerSessionOptions.MaxFrameSize"/>, or large frames stall.
/// </para>
/// </remarks>
public sealed class PeerSession : IAsyncDisposable
{
    private readonly IDuplexPipe _transport;
    private readonly PeerSessionOptions _options;
    private readonly PeerChannelSecurity? _security;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<PeerMessage> _outbound;
    private readonly Channel<PeerMessage> _inbound;
    private readonly CancellationTokenSource _abort = new();
    private readonly TaskCompletionSource<NodeId> _active = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<PeerDisconnectReason> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly LatencyTracker _latency = new();
    private readonly AccrualFailureDetector _detector = new();
    private readonly Lock _timerLock = new();
    private readonly TypeNameCache _typeNames = new();

    private ITimer? _negotiationTimer;
    private ITimer? _pingTimer;
    private ITimer? _pingCheckTimer;
    private ITimer? _closeTimer;
    private int _started;
    private int _closeReason;
    private Exception? _closeError;
    private volatile State _state;
    private long _lastPingReceived;
    private long _pingsReceived;
    private long _pingSentAt = -1;
    private long _latencyClock;
    private NodeId? _remoteId;

    // Negotiation state, touched only by the read loop.
    private Queue<IAuthProvider>? _candidates;
    private IAuthClientFlow? _clientFlow;
    private IAuthServerFlow? _serverFlow;
    private string? _authMethod;
    private int _authAttempts;
    private bool _authRejected;

    /// <summary>Creates a session over a connected transport. Call <see cref="Start"/> to run it.</summary>
    /// <param name="transport">The connection's byte streams. The session completes both when it ends.</param>
    /// <param name="role"><see cref="PeerRole.Server"/> if the local side accepted the connection.</param>
    /// <param name="localId">The local node id, sent in HELLO or SELECT.</param>
    /// <param name="options">Session settings; <see langword="null"/> for the defaults.</param>
    /// <param name="security">The transport's public security bytes for channel binding, if it has any.</param>
    /// <param name="connectionName">A name for logs, for example the remote address.</param>
    public PeerSession(
        IDuplexPipe transport,
        PeerRole role,
        NodeId localId,
        PeerSessionOptions? options = null,
        PeerChannelSecurity? security = null,
        string? connectionName = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _options = options ?? new PeerSessionOptions();
        _options.Validate();
        _transport = transport;
        _security = security;
        Role = role;
        LocalId = localId;
        ConnectionName = connectionName ?? $"{role.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}"[..15];
        _logger = _options.LoggerFactory.CreateLogger<PeerSession>();
        _time = _options.TimeProvider;
        _outbound = Channel.CreateBounded<PeerMessage>(new BoundedChannelOptions(_options.OutboundQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _inbound = Channel.CreateBounded<PeerMessage>(new BoundedChannelOptions(_options.InboundQueueCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _state = role == PeerRole.Server ? State.WaitSelect : State.WaitHello;
    }

    private enum State
    {
        WaitHello,
        WaitSelectOk,
        WaitAuthResult,
        WaitSelect,
        WaitAuth,
        WaitAuthData,
        WaitBegin,
        Active,
    }

    /// <summary>Gets the local role on this connection.</summary>
    public PeerRole Role { get; }

    /// <summary>Gets the local node id.</summary>
    public NodeId LocalId { get; }

    /// <summary>Gets the name used for this connection in logs.</summary>
    public string ConnectionName { get; }

    /// <summary>Gets the node id the peer claimed, once HELLO or SELECT arrived; authenticated once <see cref="IsActive"/>.</summary>
    public NodeId? RemoteId => _remoteId;

    /// <summary>Gets the authentication method that succeeded, once active.</summary>
    public string? AuthenticationMethod { get; private set; }

    /// <summary>Gets a value indicating whether negotiation finished and the session has not ended.</summary>
    public bool IsActive => _state == State.Active && Volatile.Read(ref _closeReason) == 0;

    /// <summary>Gets the mean round-trip time of the last six samples in whole milliseconds (0 before the first sample).</summary>
    public int Latency => _latency.Latency;

    /// <summary>
    /// Gets the tags of this connection's measurements (network and transport), set by the network that created the
    /// session; none for a session used on its own.
    /// </summary>
    internal KeyValuePair<string, object?>[] MetricTags { get; init; } = [];

    /// <summary>Gets the number of PINGs received while active (for diagnostics and tests).</summary>
    internal long PingsReceived => Interlocked.Read(ref _pingsReceived);

    /// <summary>Gets why the session ended, or <see cref="PeerDisconnectReason.None"/> while it runs.</summary>
    public PeerDisconnectReason DisconnectReason => (PeerDisconnectReason)Volatile.Read(ref _closeReason);

    /// <summary>Gets the error that ended the session, if one did.</summary>
    public Exception? DisconnectError => Volatile.Read(ref _closeError);

    /// <summary>
    /// Gets the routing and data messages (DATA, DATA_ACK, DATA_REJECT, NODE_*) received while active, in
    /// arrival order. Completes when the session ends.
    /// </summary>
    public ChannelReader<PeerMessage> Incoming => _inbound.Reader;

    /// <summary>Gets a task that completes with the reason once the session has ended and released the transport. It never faults.</summary>
    public Task<PeerDisconnectReason> Completion => _completion.Task;

    /// <summary>Starts negotiation and the read and write loops. Calling it again has no effect.</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        Log.SessionStarted(_logger, ConnectionName, Role);
        _ = RunAsync();
    }

    /// <summary>Waits until negotiation and authentication finished.</summary>
    /// <param name="cancellationToken">Cancels the wait (not the session).</param>
    /// <returns>The authenticated node id of the peer.</returns>
    /// <exception cref="PeerSessionClosedException">The session ended first; <see cref="PeerSessionClosedException.Reason"/> says why.</exception>
    public Task<NodeId> WaitForActiveAsync(CancellationToken cancellationToken = default) => _active.Task.WaitAsync(cancellationToken);

    /// <summary>Queues a routing or data message, waiting while the outbound queue is full.</summary>
    /// <param name="message">A DATA, DATA_ACK, DATA_REJECT or NODE_* message.</param>
    /// <param name="cancellationToken">Cancels the wait for queue space.</param>
    /// <returns>A task that completes once the message is queued.</returns>
    /// <exception cref="ArgumentException">The message is a negotiation or liveness message, which the session sends itself, or too large.</exception>
    /// <exception cref="InvalidOperationException">The session is not active yet.</exception>
    /// <exception cref="PeerSessionClosedException">The session has ended.</exception>
    public ValueTask SendAsync(PeerMessage message, CancellationToken cancellationToken = default)
    {
        CheckSendable(message);
        if (_outbound.Writer.TryWrite(message))
        {
            return ValueTask.CompletedTask;
        }

        return SendSlowAsync(message, cancellationToken);
    }

    /// <summary>Queues a routing or data message if there is room, without waiting.</summary>
    /// <param name="message">A DATA, DATA_ACK, DATA_REJECT or NODE_* message.</param>
    /// <returns><see langword="true"/> if queued; <see langword="false"/> if the queue is full or the session ended.</returns>
    /// <exception cref="ArgumentException">The message is a negotiation or liveness message, or too large.</exception>
    /// <exception cref="InvalidOperationException">The session is not active yet.</exception>
    public bool TrySend(PeerMessage message)
    {
        CheckSendable(message);
        return _outbound.Writer.TryWrite(message);
    }

    /// <summary>
    /// Closes the session gracefully: sends BYE (if configured), flushes what is queued, half-closes the
    /// transport and waits for the peer to close its side, at most <see cref="PeerSessionOptions.CloseTimeout"/>.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the session then ends at once.</param>
    /// <returns>A task that completes when the session has ended.</returns>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        Start();

        // The reason is claimed before BYE is queued: a peer that answers BYE by closing at once must not make this
        // side's end look like RemoteClosed.
        PeerMessage? bye = _state == State.Active && _options.SendByeOnClose ? PeerSignal.Bye : null;
        Shutdown(PeerDisconnectReason.Manual, null, graceful: true, keepReading: true, farewell: bye);
        try
        {
            await _completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Ends the session at once without BYE, discarding queued messages.</summary>
    /// <param name="error">The cause, reported by <see cref="DisconnectError"/>; <see langword="null"/> for a plain local close.</param>
    public void Abort(Exception? error = null)
    {
        Shutdown(error is null ? PeerDisconnectReason.Manual : PeerDisconnectReason.TransportError, error, graceful: false);
        if (Volatile.Read(ref _started) == 0)
        {
            Start();
        }
    }

    /// <summary>Closes the session gracefully (see <see cref="CloseAsync"/>) and waits for it to end.</summary>
    /// <returns>A task that completes when the session has ended.</returns>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        _abort.Dispose();
    }

    private void CheckSendable(PeerMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Type is not (PeerMessageType.Data or PeerMessageType.DataAck or PeerMessageType.DataReject
            or PeerMessageType.NodeSummary or PeerMessageType.NodeRequest or PeerMessageType.NodeDetails))
        {
            throw new ArgumentException($"{message.Type} is sent by the session itself.", nameof(message));
        }

        if (Volatile.Read(ref _closeReason) != 0)
        {
            throw new PeerSessionClosedException(DisconnectReason, DisconnectError);
        }

        if (_state != State.Active)
        {
            throw new InvalidOperationException("The session is not active yet; wait for WaitForActiveAsync.");
        }

        if (message.Type == PeerMessageType.Data && PeerMessageCodec.GetEncodedLength(message) > _options.MaxFrameSize)
        {
            throw new ArgumentException($"The message is larger than the maximum frame size of {_options.MaxFrameSize} bytes.", nameof(message));
        }
    }

    private async ValueTask SendSlowAsync(PeerMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _outbound.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException ex)
        {
            throw new PeerSessionClosedException(DisconnectReason, DisconnectError ?? ex);
        }
    }

    private async Task RunAsync()
    {
        // Both loops run on the thread pool so that neither starts inside the caller's context.
        Task write = Task.Run(WriteLoopAsync);
        Task read = Task.Run(ReadLoopAsync);
        await Task.WhenAll(read, write).ConfigureAwait(false);
        DisposeTimers();
        lock (_timerLock)
        {
            _closeTimer?.Dispose();
            _closeTimer = null;
        }

        if (Volatile.Read(ref _closeReason) == 0)
        {
            Shutdown(PeerDisconnectReason.RemoteClosed, null, graceful: false);
        }

        Log.SessionEnded(_logger, ConnectionName, _remoteId, DisconnectReason, DisconnectError);
        _completion.TrySetResult(DisconnectReason);
    }

    private async Task ReadLoopAsync()
    {
        PipeReader input = _transport.Input;
        Exception? error = null;
        try
        {
            if (Role == PeerRole.Server && Volatile.Read(ref _closeReason) == 0)
            {
                await EnqueueAsync(new PeerIdentify(PeerMessageType.Hello, LocalId)).ConfigureAwait(false);
            }

            ArmNegotiationTimer();
            while (true)
            {
                ReadResult result = await input.ReadAsync(_abort.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                bool keepReading = !result.IsCanceled;
                try
                {
                    while (keepReading && PeerMessageCodec.TryReadFrame(ref buffer, _options.MaxFrameSize, out ReadOnlySequence<byte> frame))
                    {
                        PeerMessage message;
                        try
                        {
                            message = PeerMessageCodec.Decode(frame, _typeNames);
                        }
                        catch (UnknownMessageTypeException ex) when (_options.IgnoreUnknownMessageTypes)
                        {
                            Log.IgnoredUnknownTag(_logger, ConnectionName, ex.Tag);
                            continue;
                        }

                        keepReading = await HandleAsync(message).ConfigureAwait(false);
                    }

                    if (keepReading && result.IsCompleted)
                    {
                        if (!buffer.IsEmpty)
                        {
                            throw new ProtocolException($"The connection ended inside a frame ({buffer.Length} byte(s) of an incomplete frame).");
                        }

                        OnRemoteClosed();
                        keepReading = false;
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (!keepReading)
                {
                    break;
                }
            }
        }
        catch (ProtocolException ex)
        {
            Log.ProtocolError(_logger, ConnectionName, ex.Message);
            Shutdown(PeerDisconnectReason.ProtocolError, ex, graceful: false);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            error = ex;
            Log.TransportError(_logger, ConnectionName, ex);
            Shutdown(PeerDisconnectReason.TransportError, ex, graceful: false);
        }
        finally
        {
            // Whatever ended reading, writing has nothing left to wait for unless a graceful close is draining it.
            Shutdown(PeerDisconnectReason.RemoteClosed, null, graceful: true);
            await input.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    private async Task WriteLoopAsync()
    {
        PipeWriter output = _transport.Output;
        ChannelReader<PeerMessage> reader = _outbound.Reader;
        Exception? error = null;
        try
        {
            while (await reader.WaitToReadAsync(_abort.Token).ConfigureAwait(false))
            {
                // Two passes before each flush. Between them the loop yields, so that work already queued on the
                // thread pool runs first (typically the callers resumed by a batch of acks, each about to send again);
                // the second pass takes what they queued. The burst then leaves in one flush and one system call
                // rather than one for its first message and one for the rest.
                for (int pass = 0; pass < 2; pass++)
                {
                    if (pass == 1)
                    {
                        await Task.Yield();
                    }

                    while (reader.TryRead(out PeerMessage? message))
                    {
                        PeerMessageCodec.WriteFrame(message, output);

                        // Flush in the middle of a large batch so the transport's buffer stays bounded.
                        if (output.CanGetUnflushedBytes && output.UnflushedBytes >= 64 * 1024)
                        {
                            FlushResult partial = await output.FlushAsync(_abort.Token).ConfigureAwait(false);
                            if (partial.IsCompleted)
                            {
                                return;
                            }
                        }
                    }
                }

                FlushResult flushed = await output.FlushAsync(_abort.Token).ConfigureAwait(false);
                if (flushed.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            error = ex;
            Log.TransportError(_logger, ConnectionName, ex);
            Shutdown(PeerDisconnectReason.TransportError, ex, graceful: false);
        }
        finally
        {
            // Completing the output half-closes the connection: the peer reads end-of-stream.
            await output.CompleteAsync(error).ConfigureAwait(false);
            if (Volatile.Read(ref _closeReason) == 0)
            {
                Shutdown(PeerDisconnectReason.TransportError, new IOException("The connection stopped accepting writes."), graceful: false);
            }
        }
    }

    // Returns false when the read loop must stop.
    private async ValueTask<bool> HandleAsync(PeerMessage message)
    {
        if (Volatile.Read(ref _closeReason) != 0)
        {
            // Closing: drain what the peer still sends until it closes its side, but act on none of it.
            return true;
        }

        switch (message.Type)
        {
            case PeerMessageType.Ping:
                if (_state == State.Active)
                {
                    long now = _time.GetTimestamp();
                    Interlocked.Increment(ref _pingsReceived);
                    Volatile.Write(ref _lastPingReceived, now);
                    lock (_detector)
                    {
                        _detector.Heartbeat(ToMilliseconds(now));
                    }
                }

                await EnqueueAsync(PeerSignal.Pong).ConfigureAwait(false);
                return true;
            case PeerMessageType.Pong:
                long sentAt = Interlocked.Exchange(ref _pingSentAt, -1);
                if (sentAt >= 0)
                {
                    TimeSpan roundTrip = _time.GetElapsedTime(sentAt);
                    _latency.Add(roundTrip);
                    if (AtaraxiaMetrics.PeerLatency.Enabled)
                    {
                        AtaraxiaMetrics.PeerLatency.Record(roundTrip.TotalMilliseconds, MetricTags);
                    }
                }

                return true;
            case PeerMessageType.Bye:
                Shutdown(PeerDisconnectReason.RemoteBye, null, graceful: true);
                return false;
        }

        if (message.IsNegotiation)
        {
            return await HandleNegotiationAsync(message).ConfigureAwait(false);
        }

        if (_state != State.Active)
        {
            // Nothing is accepted before authentication (JavaScript drops these too).
            Log.DroppedBeforeActive(_logger, ConnectionName, message.Type);
            return true;
        }

        await _inbound.Writer.WriteAsync(message, _abort.Token).ConfigureAwait(false);
        return true;
    }

    private async ValueTask<bool> HandleNegotiationAsync(PeerMessage message)
    {
        switch (_state, message)
        {
            // Server (WIRE.md §5.2)
            case (State.WaitSelect, PeerIdentify { Type: PeerMessageType.Select } select):
                _remoteId = select.Id;
                await EnqueueAsync(PeerSignal.Ok).ConfigureAwait(false);
                _state = State.WaitAuth;
                ArmNegotiationTimer();
                return true;
            case (State.WaitAuth or State.WaitAuthData, PeerAuth auth):
                // A new AUTH while a flow runs restarts authentication with that method (§5.3, JS client fallback).
                if (++_authAttempts > _options.MaxAuthAttempts)
                {
                    return FailAuthentication($"more than {_options.MaxAuthAttempts} authentication attempts");
                }

                IAuthProvider? provider = FindProvider(auth.Method);
                _serverFlow = provider?.CreateServerFlow(CreateAuthContext());
                _authMethod = auth.Method;
                if (_serverFlow is null)
                {
                    Log.AuthMethodRejected(_logger, ConnectionName, auth.Method);
                    return await ApplyServerResultAsync(AuthResult.Reject).ConfigureAwait(false);
                }

                return await ApplyServerResultAsync(await _serverFlow.ReceiveAsync(auth.Data, _abort.Token).ConfigureAwait(false)).ConfigureAwait(false);
            case (State.WaitAuthData, PeerAuthData data):
                return await ApplyServerResultAsync(await _serverFlow!.ReceiveAsync(data.Data, _abort.Token).ConfigureAwait(false)).ConfigureAwait(false);
            case (State.WaitBegin, { Type: PeerMessageType.Begin }):
                _latency.Add(_time.GetElapsedTime(_latencyClock));
                Activate();
                return true;

            // Client (WIRE.md §5.3)
            case (State.WaitHello, PeerIdentify { Type: PeerMessageType.Hello } hello):
                _remoteId = hello.Id;
                _latencyClock = _time.GetTimestamp();
                await EnqueueAsync(new PeerIdentify(PeerMessageType.Select, LocalId)).ConfigureAwait(false);
                _state = State.WaitSelectOk;
                ArmNegotiationTimer();
                return true;
            case (State.WaitSelectOk, { Type: PeerMessageType.Ok }):
                _latency.Add(_time.GetElapsedTime(_latencyClock));
                _candidates = new Queue<IAuthProvider>(_options.AuthProviders);
                return await SendNextAuthAsync().ConfigureAwait(false);
            case (State.WaitSelectOk, { Type: PeerMessageType.Reject }):
                return FailAuthentication("the server rejected SELECT");
            case (State.WaitAuthResult, { Type: PeerMessageType.Ok }):
                await EnqueueAsync(PeerSignal.Begin).ConfigureAwait(false);
                Activate();
                return true;
            case (State.WaitAuthResult, { Type: PeerMessageType.Reject }):
                _authRejected = true;
                Log.AuthMethodRejected(_logger, ConnectionName, _authMethod ?? "?");
                return await SendNextAuthAsync().ConfigureAwait(false);
            case (State.WaitAuthResult, PeerAuthData data):
                AuthResult result;
                try
                {
                    result = await _clientFlow!.ReceiveAsync(data.Data, _abort.Token).ConfigureAwait(false);
                }
                catch (ProtocolException ex)
                {
                    return FailAuthentication(ex.Message, ex);
                }

                switch (result.Outcome)
                {
                    case AuthOutcome.Continue:
                        await EnqueueAsync(new PeerAuthData(result.Data)).ConfigureAwait(false);
                        ArmNegotiationTimer();
                        return true;
                    case AuthOutcome.Reject:
                        // The server failed to prove itself: try the next method. A JavaScript server closes the
                        // connection here instead of accepting a new AUTH (WIRE.md §5.3).
                        _authRejected = true;
                        return await SendNextAuthAsync().ConfigureAwait(false);
                    default:
                        throw new ProtocolException($"Authentication method {_authMethod} returned {result.Outcome} on the client side.");
                }

            default:
                throw new ProtocolException($"Unexpected {message.Type} while in state {_state}.");
        }
    }

    private async ValueTask<bool> ApplyServerResultAsync(AuthResult result)
    {
        switch (result.Outcome)
        {
            case AuthOutcome.Ok:
                _latencyClock = _time.GetTimestamp();
                await EnqueueAsync(PeerSignal.Ok).ConfigureAwait(false);
                AuthenticationMethod = _authMethod;
                _state = State.WaitBegin;
                break;
            case AuthOutcome.Reject:
                _authRejected = true;
                _serverFlow = null;
                await EnqueueAsync(PeerSignal.Reject).ConfigureAwait(false);
                _state = State.WaitAuth;
                break;
            default:
                await EnqueueAsync(new PeerAuthData(result.Data)).ConfigureAwait(false);
                _state = State.WaitAuthData;
                break;
        }

        ArmNegotiationTimer();
        return true;
    }

    private async ValueTask<bool> SendNextAuthAsync()
    {
        while (_candidates!.TryDequeue(out IAuthProvider? provider))
        {
            IAuthClientFlow? flow = provider.CreateClientFlow(CreateAuthContext());
            if (flow is null)
            {
                continue;
            }

            _clientFlow = flow;
            _authMethod = provider.Id;
            AuthenticationMethod = provider.Id;
            await EnqueueAsync(new PeerAuth(provider.Id, flow.InitialMessage)).ConfigureAwait(false);
            _state = State.WaitAuthResult;
            ArmNegotiationTimer();
            return true;
        }

        // Nothing is sent: the connection is simply closed (WIRE.md §5.3).
        return FailAuthentication(_authRejected ? "every authentication method was rejected" : "no authentication method can act as client");
    }

    private bool FailAuthentication(string detail, Exception? error = null)
    {
        Log.AuthenticationFailed(_logger, ConnectionName, _remoteId, detail);
        Shutdown(PeerDisconnectReason.AuthenticationFailed, error ?? new AuthenticationFailedException(detail), graceful: true);
        return false;
    }

    private IAuthProvider? FindProvider(string method)
    {
        foreach (IAuthProvider provider in _options.AuthProviders)
        {
            if (string.Equals(provider.Id, method, StringComparison.Ordinal))
            {
                return provider;
            }
        }

        return null;
    }

    private AuthContext CreateAuthContext() => new(Role, LocalId, _remoteId ?? default, _security);

    private void Activate()
    {
        _state = State.Active;
        long now = _time.GetTimestamp();
        Volatile.Write(ref _lastPingReceived, now);
        lock (_detector)
        {
            _detector.Heartbeat(ToMilliseconds(now));
        }

        lock (_timerLock)
        {
            _negotiationTimer?.Dispose();
            _negotiationTimer = null;
            if (Volatile.Read(ref _closeReason) == 0)
            {
                _pingTimer = _time.CreateTimer(static s => ((PeerSession)s!).SendPing(), this, _options.PingInterval, _options.PingInterval);
                _pingCheckTimer = _time.CreateTimer(static s => ((PeerSession)s!).CheckLiveness(), this, _options.PingCheckInterval, _options.PingCheckInterval);
            }
        }

        Log.SessionActive(_logger, ConnectionName, _remoteId!.Value, AuthenticationMethod ?? "?");
        _active.TrySetResult(_remoteId!.Value);
    }

    private void SendPing()
    {
        if (Volatile.Read(ref _closeReason) != 0)
        {
            return;
        }

        // Only the newest PING is timed, so a PONG always pairs with it (WIRE.md §8.2).
        Volatile.Write(ref _pingSentAt, _time.GetTimestamp());
        if (!_outbound.Writer.TryWrite(PeerSignal.Ping))
        {
            _ = EnqueueInBackgroundAsync(PeerSignal.Ping);
        }
    }

    private async Task EnqueueInBackgroundAsync(PeerMessage message)
    {
        try
        {
            await _outbound.Writer.WriteAsync(message, _abort.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            // The session ended; nothing to send any more.
        }
    }

    private void CheckLiveness()
    {
        if (Volatile.Read(ref _closeReason) != 0)
        {
            return;
        }

        long now = _time.GetTimestamp();
        TimeSpan silence = _time.GetElapsedTime(Volatile.Read(ref _lastPingReceived), now);
        bool suspected;
        lock (_detector)
        {
            suspected = _options.UseAccrualFailureDetector && _detector.IsSuspected(ToMilliseconds(now));
        }

        if (silence > _options.PingTimeout || suspected)
        {
            Log.PingTimeout(_logger, ConnectionName, _remoteId, silence);
            Shutdown(PeerDisconnectReason.PingTimeout, new TimeoutException($"No PING from the peer for {silence.TotalSeconds:F1} s."), graceful: false);
        }
    }

    private void ArmNegotiationTimer()
    {
        lock (_timerLock)
        {
            if (Volatile.Read(ref _closeReason) != 0)
            {
                return;
            }

            if (_negotiationTimer is null)
            {
                _negotiationTimer = _time.CreateTimer(static s => ((PeerSession)s!).OnNegotiationTimeout(), this, _options.NegotiationTimeout, Timeout.InfiniteTimeSpan);
            }
            else
            {
                _negotiationTimer.Change(_options.NegotiationTimeout, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void OnNegotiationTimeout()
    {
        State state = _state;
        if (state == State.Active)
        {
            return;
        }

        Log.NegotiationTimeout(_logger, ConnectionName, state.ToString(), _options.NegotiationTimeout);
        Shutdown(PeerDisconnectReason.NegotiationTimeout, new TimeoutException($"Negotiation step {state} did not finish within {_options.NegotiationTimeout}."), graceful: false);
    }

    private void OnRemoteClosed()
    {
        // A peer that hangs up in the middle of authentication has failed it (e.g. it rejected our proof).
        PeerDisconnectReason reason = _state != State.Active && (_authRejected || _state is State.WaitAuthData or State.WaitAuthResult)
            ? PeerDisconnectReason.AuthenticationFailed
            : PeerDisconnectReason.RemoteClosed;
        Exception? error = reason == PeerDisconnectReason.AuthenticationFailed
            ? new AuthenticationFailedException("The peer closed the connection during authentication.")
            : _state != State.Active ? new IOException("The peer closed the connection during negotiation.") : null;
        Shutdown(reason, error, graceful: true);
    }

    private ValueTask EnqueueAsync(PeerMessage message)
    {
        if (_outbound.Writer.TryWrite(message))
        {
            return ValueTask.CompletedTask;
        }

        return _outbound.Writer.WriteAsync(message, _abort.Token);
    }

    // Ends the session once; later calls are ignored. A graceful end lets the write loop drain what is queued
    // and half-close; otherwise both loops stop at once. keepReading lets a local close wait for the peer's EOF.
    private void Shutdown(PeerDisconnectReason reason, Exception? error, bool graceful, bool keepReading = false, PeerMessage? farewell = null)
    {
        if (Interlocked.CompareExchange(ref _closeReason, (int)reason, 0) != 0)
        {
            return;
        }

        if (farewell is not null)
        {
            _outbound.Writer.TryWrite(farewell);
        }

        Volatile.Write(ref _closeError, error);
        if (reason == PeerDisconnectReason.AuthenticationFailed && AtaraxiaMetrics.AuthenticationFailures.Enabled)
        {
            AtaraxiaMetrics.AuthenticationFailures.Add(1, MetricTags);
        }

        DisposeTimers();
        _active.TrySetException(new PeerSessionClosedException(reason, error));
        _ = _active.Task.Exception; // observed: a session that never became active is not an unobserved fault
        _inbound.Writer.TryComplete();
        _outbound.Writer.TryComplete();
        if (!graceful)
        {
            _abort.Cancel();
        }
        else if (keepReading)
        {
            lock (_timerLock)
            {
                _closeTimer = _time.CreateTimer(static s => ((PeerSession)s!).OnCloseTimeout(), this, _options.CloseTimeout, Timeout.InfiniteTimeSpan);
            }
        }
        else
        {
            // The read loop stops by itself; the write loop drains. Bound the drain by the close timeout.
            lock (_timerLock)
            {
                _closeTimer = _time.CreateTimer(static s => ((PeerSession)s!).OnCloseTimeout(), this, _options.CloseTimeout, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void OnCloseTimeout()
    {
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void DisposeTimers()
    {
        lock (_timerLock)
        {
            _negotiationTimer?.Dispose();
            _pingTimer?.Dispose();
            _pingCheckTimer?.Dispose();
            _negotiationTimer = _pingTimer = _pingCheckTimer = null;
        }
    }

    private long ToMilliseconds(long timestamp) => (long)(timestamp * 1000.0 / _time.TimestampFrequency);
}

/// <summary>The reason recorded when authentication fails on a peer session.</summary>
public sealed class AuthenticationFailedException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public AuthenticationFailedException()
        : base("Authentication failed.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public AuthenticationFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public AuthenticationFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
