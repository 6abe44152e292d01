using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Ataraxia.Cbor;

namespace Ataraxia;

/// <summary>
/// A group of nodes identified by name, wire-compatible with JavaScript's <c>NamedGroup</c> (WIRE.md §12.1):
/// nodes join and leave, every member learns who else is in it, and messages go to all members.
/// </summary>
/// <remarks>
/// Membership events and messages are raised on the network's event loop, never on a connection's read loop.
/// The local node is not listed in <see cref="Members"/>.
/// </remarks>
public sealed class NamedGroup : IAsyncDisposable
{
    private readonly Network _network;
    private readonly Channel<Message> _messages = Channel.CreateBounded<Message>(new BoundedChannelOptions(1024)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
    });

    private int _joined;

    /// <summary>Creates a handle for a group; call <see cref="JoinAsync"/> to become a member.</summary>
    /// <param name="network">The network.</param>
    /// <param name="name">The group name.</param>
    public NamedGroup(Network network, string name)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(name);
        _network = network;
        Name = name;
        network.Groups.Activate();
    }

    /// <summary>Raised when a node joins the group (or a member becomes reachable).</summary>
    public event EventHandler<NodeEventArgs>? MemberAvailable;

    /// <summary>Raised when a member leaves the group or becomes unreachable.</summary>
    public event EventHandler<NodeEventArgs>? MemberUnavailable;

    /// <summary>Raised for each message from a member of the group.</summary>
    public event EventHandler<MessageEventArgs>? MessageReceived;

    /// <summary>Gets the group name.</summary>
    public string Name { get; }

    /// <summary>Gets a value indicating whether the local node is a member.</summary>
    public bool IsJoined => Volatile.Read(ref _joined) == 1;

    /// <summary>Gets the other nodes that are members.</summary>
    public IReadOnlyCollection<Node> Members => _network.Groups.MembersOf(Name);

    /// <summary>Makes the local node a member and tells every reachable node.</summary>
    /// <param name="cancellationToken">Not used; joining does not wait for the other nodes.</param>
    /// <returns>A completed task.</returns>
    public ValueTask JoinAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _joined, 1) == 0)
        {
            _network.Groups.Join(this);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Stops being a member and tells every reachable node.</summary>
    /// <param name="cancellationToken">Not used; leaving does not wait for the other nodes.</param>
    /// <returns>A completed task.</returns>
    public ValueTask LeaveAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _joined, 0) == 1)
        {
            _network.Groups.Leave(this);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Sends a message to every member and waits until each first hop answered.</summary>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The number of members whose first hop acknowledged the message.</returns>
    public async ValueTask<int> BroadcastAsync(string type, CborValue? data = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        byte[] payload = (data ?? CborValue.Null).Encode();
        return await _network.SendToManyAsync(Members.Select(m => m.Id), type, payload, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a message mapped from a .NET value to every member.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The number of members whose first hop acknowledged the message.</returns>
    [RequiresUnreferencedCode("Maps by reflection over the public properties of T.")]
    [RequiresDynamicCode("Maps by reflection over the public properties of T.")]
    public ValueTask<int> BroadcastAsync<T>(string type, T data, CancellationToken cancellationToken = default) =>
        BroadcastAsync(type, CborSerializer.ToValue(data), cancellationToken);

    /// <summary>Reads messages from members (the last 1024 are buffered; older ones are dropped).</summary>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The messages in arrival order.</returns>
    public IAsyncEnumerable<Message> ReadMessagesAsync(CancellationToken cancellationToken = default) =>
        _messages.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Leaves the group.</summary>
    /// <returns>A task that completes when left.</returns>
    public async ValueTask DisposeAsync()
    {
        await LeaveAsync().ConfigureAwait(false);
        _messages.Writer.TryComplete();
    }

    internal void Deliver(Message message)
    {
        _messages.Writer.TryWrite(message);
        if (MessageReceived is not null)
        {
            _network.RaiseEvent(() => MessageReceived?.Invoke(this, new MessageEventArgs(message)));
        }
    }

    internal void OnMemberChanged(Node node, bool joined)
    {
        EventHandler<NodeEventArgs>? handler = joined ? MemberAvailable : MemberUnavailable;
        if (handler is not null)
        {
            _network.RaiseEvent(() => handler(this, new NodeEventArgs(node)));
        }
    }
}
