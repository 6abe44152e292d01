namespace Ataraxia.Transport;

/// <summary>A transport that connects a network to others through an <see cref="InMemorySwitchboard"/>.</summary>
/// <remarks>Create it with <see cref="InMemorySwitchboard.CreateTransport"/>; connections are made by the switchboard's links.</remarks>
public sealed class InMemoryTransport : ITransport
{
    private static int _nextId;

    internal InMemoryTransport(InMemorySwitchboard switchboard, string name)
    {
        Switchboard = switchboard;
        Name = name;
        Id = Interlocked.Increment(ref _nextId);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Gets the switchboard this transport belongs to.</summary>
    public InMemorySwitchboard Switchboard { get; }

    /// <summary>Gets the local node id once started.</summary>
    public NodeId? NodeId => Host?.LocalId;

    internal int Id { get; }

    internal ITransportHost? Host { get; private set; }

    /// <inheritdoc />
    public ValueTask StartAsync(ITransportHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (Host is not null)
        {
            throw new InvalidOperationException("The transport is already started.");
        }

        Host = host;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>No new links connect afterwards; the network closes the existing connections itself.</remarks>
    public ValueTask StopAsync(CancellationToken cancellationToken = default)
    {
        Host = null;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
