using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests.MultiHost;

/// <summary>
/// Three node processes A, B and C, one per network namespace on a private bridge, started by the caller's recipe;
/// ready once every node sees the other two. Disposing kills the nodes and deletes the namespaces.
/// </summary>
internal sealed class NodeTrio : IAsyncDisposable
{
    private readonly NetworkNamespaces _lan;
    private readonly List<NodeProcess> _nodes = [];

    private NodeTrio(NetworkNamespaces lan) => _lan = lan;

    public NodeProcess A => _nodes[0];

    public NodeProcess B => _nodes[1];

    public NodeProcess C => _nodes[2];

    /// <summary>Creates the namespaces, starts the nodes and waits until all three see each other.</summary>
    /// <param name="start">Starts A, B and C on the three hosts and returns them in that order.</param>
    public static async Task<NodeTrio> StartAsync(Func<IReadOnlyList<NamespaceHost>, Task<NodeProcess[]>> start)
    {
        var trio = new NodeTrio(await NetworkNamespaces.CreateAsync(3));
        try
        {
            trio._nodes.AddRange(await start(trio._lan.Hosts));
            foreach (NodeProcess node in trio._nodes)
            {
                foreach (NodeProcess other in trio._nodes.Where(o => o != node))
                {
                    await node.WaitForAvailableAsync(other);
                }
            }

            return trio;
        }
        catch
        {
            await trio.DisposeAsync();
            throw;
        }
    }

    public void AssertNoErrors()
    {
        foreach (NodeProcess node in _nodes)
        {
            node.AssertNoErrors();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (NodeProcess node in _nodes)
            {
                await node.DisposeAsync();
            }
        }
        finally
        {
            await _lan.DisposeAsync();
        }
    }
}
