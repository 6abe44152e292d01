using System.Net.Sockets;
using System.Threading.Channels;
using Ataraxia.Authentication;
using Ataraxia.Local.Internal;
using Ataraxia.Protocol;
using Ataraxia.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ataraxia.Local;

/// <summary>
/// Connects the processes of one machine without any network configuration, and elects one of them leader: the
/// leader accepts the others (it is the Ataraxia server of every machine-local session), the followers connect to
/// it, and routing between followers goes through the leader.
/// </summary>
/// <remarks>
/// <para>
/// On Linux and macOS the processes meet at a Unix domain socket (by default <c>&lt;temp&gt;/&lt;network name&gt;</c>,
/// like the JavaScript library, WIRE.md §4.3); an exclusive lock on <c>&lt;path&gt;.leader</c> decides who binds it.
/// On Windows they meet at a named pipe of that name, and the first pipe instance decides. When the leader ends
/// (even killed, without a clean shutdown) the followers race for leadership: exactly one wins and binds, the rest
/// connect to it.
/// </para>
/// <para>
/// Frames follow WIRE.md §4.1 without encryption, authentication is anonymous and disconnecting sends no BYE. Who
/// can join: every process of the same user that can reach the path (the socket is owner-only, the pipe is limited
/// to the current user). Endpoint networks never lead. All members are thread-safe.
/// </para>
/// </remarks>
public sealed class MachineLocalTransport : ITransport, IAsyncDisposable
{
    private readonly MachineLocalTransportOptions _options;
    private readonly Lock _lock = new();
    private readonly List<Task> _connections = [];
    private readonly Channel<bool> _leadership = Channel.CreateUnbounded<bool>(new UnboundedChannelOptions { SingleReader = true });
    private CancellationTokenSource? _stopping;
    private ITransportHost? _host;
    private ILogger _logger = NullLogger.Instance;
    private Rendezvous? _rendezvous;
    private Task _election = Task.CompletedTask;
    private Task _events = Task.CompletedTask;
    private int _isLeader;

    /// <summary>Creates a machine-local transport.</summary>
    /// <param name="options">Settings; <see langword="null"/> for the defaults (a rendezvous named after the network).</param>
    public MachineLocalTransport(MachineLocalTransportOptions? options = null)
    {
        _options = options ?? new MachineLocalTransportOptions();
        _options.Validate();
    }

    /// <summary>Raised when this process becomes the leader and when it stops being the leader.</summary>
    /// <remarks>
    /// Handlers run one at a time, in order, on a thread of their own (never on a connection's I/O loop), so they may
    /// block briefly or start other work such as dialling TCP peers.
    /// </remarks>
    public event EventHandler<LeadershipChangedEventArgs>? LeadershipChanged;

    /// <inheritdoc />
    public string Name => "local";

    /// <summary>Gets a value indicating whether this process is the leader of the machine-local mesh now.</summary>
    public bool IsLeader => Volatile.Read(ref _isLeader) == 1;

    /// <summary>Gets the rendezvous path (socket path or pipe name) once started, or the configured one.</summary>
    public string? Path => _rendezvous?.Path ?? _options.Path;

    /// <summary>Gets the default rendezvous path for a network name: <c>Path.Combine(Path.GetTempPath(), networkName)</c>.</summary>
    /// <param name="networkName">The network name.</param>
    /// <returns>The path.</returns>
    public static string DefaultPath(string networkName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(networkName);
        return System.IO.Path.Combine(System.IO.Path.GetTempPath(), networkName);
    }

    /// <inheritdoc />
    public ValueTask StartAsync(ITransportHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        lock (_lock)
        {
            if (_host is not null)
            {
                throw new InvalidOperationException("A machine-local transport serves one network and starts once.");
            }

            _rendezvous = Rendezvous.Create(_options.Path ?? DefaultPath(host.NetworkName));
            _host = host;
            _logger = host.LoggerFactory.CreateLogger<MachineLocalTransport>();
            _stopping = new CancellationTokenSource();
            _events = Task.Run(DeliverLeadershipEventsAsync, CancellationToken.None);
            CancellationToken stopping = _stopping.Token;
            _election = Task.Run(() => ElectAsync(stopping), CancellationToken.None);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask StopAsync(CancellationToken cancellationToken = default)
    {
        CancellationTokenSource? stopping;
        lock (_lock)
        {
            stopping = _stopping;
            if (stopping is null || stopping.IsCancellationRequested)
            {
                return;
            }
        }

        await stopping.CancelAsync().ConfigureAwait(false);

        // The election loop ends at once (a leader stops accepting and gives up the lock). Sessions end when the
        // network closes them after stopping its transports: waiting for them here would wait for ourselves.
        await _election.WaitAsync(cancellationToken).ConfigureAwait(false);
        _leadership.Writer.TryComplete();
        await _events.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the transport and waits (briefly) for its connections to end.</summary>
    /// <returns>A task that completes when stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        Task[] connections;
        lock (_lock)
        {
            connections = [.. _connections];
        }

        try
        {
            await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A session the network still runs keeps its connection; it ends with the session.
        }

        _stopping?.Dispose();
    }

    // Leads if it can, otherwise follows; a follower whose leader went away tries to lead again.
    private async Task ElectAsync(CancellationToken stopping)
    {
        Rendezvous rendezvous = _rendezvous!;
        var backoff = new ReconnectBackoff(_options.RetryInitialDelay, _options.RetryMaxDelay);
        while (!stopping.IsCancellationRequested)
        {
            if (!_host!.IsEndpoint)
            {
                ILeaderListener? listener = null;
                try
                {
                    listener = rendezvous.TryLead(path => Log.RemovedStaleSocket(_logger, path));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SocketException)
                {
                    Log.ElectionFailed(_logger, rendezvous.Path, ex);
                }

                if (listener is not null)
                {
                    await LeadAsync(listener, stopping).ConfigureAwait(false);
                    return;
                }
            }

            LocalStream stream;
            try
            {
                stream = await rendezvous.ConnectAsync(_options.ConnectTimeout, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or TimeoutException or UnauthorizedAccessException)
            {
                // No leader yet (it is binding) or a dead one (a stale socket): try again shortly, maybe as leader.
                Log.ConnectFailed(_logger, rendezvous.Path, ex.Message);
                if (!await PauseAsync(backoff, stopping).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            Log.ConnectedToLeader(_logger, rendezvous.Path);
            long started = TimeProvider.System.GetTimestamp();
            Task connection = RunConnectionAsync(stream, PeerRole.Client, stopping);
            Track(connection);
            await Task.WhenAny(connection, Task.Delay(Timeout.Infinite, stopping)).ConfigureAwait(false);

            // A connection that lasted resets the back-off: the leader died, so race for leadership at once. One
            // that ended at once (refused, failed to negotiate) is retried like a failed connect.
            if (TimeProvider.System.GetElapsedTime(started) > TimeSpan.FromSeconds(1))
            {
                backoff.Reset();
            }
            else if (!await PauseAsync(backoff, stopping).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private async Task LeadAsync(ILeaderListener listener, CancellationToken stopping)
    {
        string path = _rendezvous!.Path;
        Volatile.Write(ref _isLeader, 1);
        Log.BecameLeader(_logger, path);
        _leadership.Writer.TryWrite(true);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                LocalStream accepted;
                try
                {
                    accepted = await listener.AcceptAsync(stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex) when (ex is IOException or SocketException)
                {
                    Log.ConnectFailed(_logger, path, ex.Message);
                    continue;
                }

                Track(Task.Run(() => RunConnectionAsync(accepted, PeerRole.Server, stopping), CancellationToken.None));
            }
        }
        finally
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            Volatile.Write(ref _isLeader, 0);
            Log.StoppedLeading(_logger, path);
            _leadership.Writer.TryWrite(false);
        }
    }

    private async Task RunConnectionAsync(LocalStream stream, PeerRole role, CancellationToken stopping)
    {
        string name = role == PeerRole.Server ? $"local {_rendezvous!.Path} (accepted)" : $"local {_rendezvous!.Path}";
        var connection = new StreamPipeConnection(stream.Stream, stream.Socket, _host!.SessionOptions.MaxFrameSize + (64 * 1024));
        try
        {
            PeerSession session = _host.CreateSession(connection, role, security: null, name, ConfigureSession);
            await _host.AttachAsync(session, stopping).ConfigureAwait(false);
            await session.Completion.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ConnectionFailed(_logger, name, ex);
        }
        finally
        {
            await connection.CloseAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
    }

    private void Track(Task connection)
    {
        lock (_lock)
        {
            _connections.RemoveAll(t => t.IsCompleted);
            _connections.Add(connection);
        }

    }

    private static async Task<bool> PauseAsync(ReconnectBackoff backoff, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(backoff.NextDelay(), stopping).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    // Handlers run here, in order, away from the election loop and every connection.
    private async Task DeliverLeadershipEventsAsync()
    {
        await foreach (bool isLeader in _leadership.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                LeadershipChanged?.Invoke(this, new LeadershipChangedEventArgs(isLeader));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.HandlerFailed(_logger, ex);
            }
        }
    }

    // WIRE.md §4.3: anonymous authentication only, and no BYE on disconnect.
    private static PeerSessionOptions ConfigureSession(PeerSessionOptions options) => options with
    {
        AuthProviders = [AnonymousAuth.Instance],
        SendByeOnClose = false,
    };
}
