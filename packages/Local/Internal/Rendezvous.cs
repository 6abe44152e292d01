using System.IO.Pipes;
using System.Net.Sockets;
using System.Runtime.Versioning;

namespace Ataraxia.Local.Internal;

/// <summary>A connected byte stream; <see cref="Socket"/> is set for sockets, which support half-close.</summary>
internal readonly record struct LocalStream(Stream Stream, Socket? Socket);

/// <summary>The leader's side of the rendezvous: holds leadership until disposed.</summary>
internal interface ILeaderListener : IAsyncDisposable
{
    ValueTask<LocalStream> AcceptAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Where the processes of a machine meet. Exactly one process at a time gets a listener from <see cref="TryLead"/>;
/// the others connect to it.
/// </summary>
internal abstract class Rendezvous
{
    protected Rendezvous(string path) => Path = path;

    public string Path { get; }

    public static Rendezvous Create(string path) =>
        OperatingSystem.IsWindows() ? new PipeRendezvous(path) : new UnixSocketRendezvous(path);

    /// <summary>Becomes the leader if nobody else is, or returns <see langword="null"/>.</summary>
    public abstract ILeaderListener? TryLead(Action<string> staleSocketRemoved);

    public abstract ValueTask<LocalStream> ConnectAsync(TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>
/// Linux and macOS: an exclusive lock on <c>&lt;path&gt;.leader</c> decides who leads; only the holder removes a
/// stale socket file and binds the socket. .NET takes <c>flock(LOCK_EX | LOCK_NB)</c> for
/// <see cref="FileShare.None"/>, and the kernel drops it when the holder dies, so a killed leader never blocks the
/// next election.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal sealed class UnixSocketRendezvous : Rendezvous
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public UnixSocketRendezvous(string path)
        : base(path)
    {
        // Without advisory locks two processes could both lead.
        if (AppContext.TryGetSwitch("System.IO.DisableFileLocking", out bool disabled) && disabled
            || Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING") is "1" or "true" or "True")
        {
            throw new NotSupportedException("The machine-local transport needs file locking, which System.IO.DisableFileLocking turns off.");
        }
    }

    public string LockPath => Path + ".leader";

    public override ILeaderListener? TryLead(Action<string> staleSocketRemoved)
    {
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(LockPath, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = OwnerOnly,
            });
        }
        catch (IOException) when (File.Exists(LockPath))
        {
            // Another process holds the lock: it leads.
            return null;
        }

        Socket? socket = null;
        try
        {
            // Only the lock holder gets here, so whatever is at the path is left by an earlier leader that died.
            if (File.Exists(Path))
            {
                File.Delete(Path);
                staleSocketRemoved(Path);
            }

            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(Path));

            // Owner-only before listening: nobody else can connect in between (connecting needs write permission).
            File.SetUnixFileMode(Path, OwnerOnly);
            socket.Listen(512);
            return new Listener(this, lockFile, socket);
        }
        catch
        {
            socket?.Dispose();
            lockFile.Dispose();
            throw;
        }
    }

    public override async ValueTask<LocalStream> ConnectAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path), deadline.Token).ConfigureAwait(false);
            return new LocalStream(new NetworkStream(socket, ownsSocket: false), socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed class Listener(UnixSocketRendezvous rendezvous, FileStream lockFile, Socket socket) : ILeaderListener
    {
        public async ValueTask<LocalStream> AcceptAsync(CancellationToken cancellationToken)
        {
            Socket accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            return new LocalStream(new NetworkStream(accepted, ownsSocket: false), accepted);
        }

        public async ValueTask DisposeAsync()
        {
            socket.Dispose();
            try
            {
                // Still under the lock: the file is ours to remove.
                File.Delete(rendezvous.Path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The next leader removes it.
            }

            await lockFile.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Windows: the first instance of a named pipe decides who leads (<see cref="PipeOptions.FirstPipeInstance"/>);
/// the leader always keeps one instance waiting, so the name stays taken until it exits. The pipe is limited to the
/// current user (<see cref="PipeOptions.CurrentUserOnly"/>).
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class PipeRendezvous(string path) : Rendezvous(path)
{
    private const PipeOptions Common = PipeOptions.Asynchronous | PipeOptions.CurrentUserOnly;

    public override ILeaderListener? TryLead(Action<string> staleSocketRemoved)
    {
        try
        {
            return new Listener(this, Create(first: true));
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return null;
        }
    }

    public override async ValueTask<LocalStream> ConnectAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var client = new NamedPipeClientStream(".", Path, PipeDirection.InOut, Common);
        try
        {
            await client.ConnectAsync(timeout, cancellationToken).ConfigureAwait(false);
            return new LocalStream(client, null);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private NamedPipeServerStream Create(bool first) => new(
        Path,
        PipeDirection.InOut,
        NamedPipeServerStream.MaxAllowedServerInstances,
        PipeTransmissionMode.Byte,
        first ? Common | PipeOptions.FirstPipeInstance : Common);

    private sealed class Listener(PipeRendezvous rendezvous, NamedPipeServerStream waiting) : ILeaderListener
    {
        private NamedPipeServerStream _waiting = waiting;

        public async ValueTask<LocalStream> AcceptAsync(CancellationToken cancellationToken)
        {
            await _waiting.WaitForConnectionAsync(cancellationToken).ConfigureAwait(false);
            NamedPipeServerStream connected = _waiting;

            // The connected instance still exists while the next one is created, so the name is never free.
            _waiting = rendezvous.Create(first: false);
            return new LocalStream(connected, null);
        }

        public ValueTask DisposeAsync() => _waiting.DisposeAsync();
    }
}
