using System.IO.Pipelines;
using Ataraxia.Protocol;
using Ataraxia.Transport;
using Microsoft.Extensions.Logging;

namespace Ataraxia.MeshDemo;

/// <summary>
/// Wraps a transport so that the demo can crash a node inside this process: <see cref="CrashAsync"/> ends every
/// connection at once, without BYE, as the kernel does with the sockets of a process that died, and stops the
/// transport so that nothing connects to the node again.
/// </summary>
internal sealed class CrashableTransport(ITransport inner) : ITransport
{
    private readonly Lock _lock = new();
    private readonly List<PeerSession> _sessions = [];
    private bool _crashed;

    public string Name => inner.Name;

    public ITransport Inner => inner;

    public ValueTask StartAsync(ITransportHost host, CancellationToken cancellationToken = default) =>
        inner.StartAsync(new Host(this, host), cancellationToken);

    public ValueTask StopAsync(CancellationToken cancellationToken = default) => inner.StopAsync(cancellationToken);

    public async Task CrashAsync(CancellationToken cancellationToken)
    {
        PeerSession[] sessions;
        lock (_lock)
        {
            _crashed = true;
            sessions = [.. _sessions];
            _sessions.Clear();
        }

        foreach (PeerSession session in sessions)
        {
            session.Abort(new IOException("The node crashed."));
        }

        // Listeners close and dialers give up; sessions made meanwhile were aborted as they were created.
        await inner.StopAsync(cancellationToken);
    }

    private PeerSession Track(PeerSession session)
    {
        lock (_lock)
        {
            if (!_crashed)
            {
                _sessions.Add(session);
                return session;
            }
        }

        session.Abort(new IOException("The node crashed."));
        return session;
    }

    private sealed class Host(CrashableTransport owner, ITransportHost host) : ITransportHost
    {
        public NodeId LocalId => host.LocalId;

        public string NetworkName => host.NetworkName;

        public bool IsEndpoint => host.IsEndpoint;

        public ILoggerFactory LoggerFactory => host.LoggerFactory;

        public PeerSessionOptions SessionOptions => host.SessionOptions;

        public PeerSession CreateSession(IDuplexPipe connection, PeerRole role, PeerChannelSecurity? security = null, string? connectionName = null, Func<PeerSessionOptions, PeerSessionOptions>? configure = null) =>
            owner.Track(host.CreateSession(connection, role, security, connectionName, configure));

        public Task<NodeId> AttachAsync(PeerSession session, CancellationToken cancellationToken = default) =>
            host.AttachAsync(session, cancellationToken);
    }
}
