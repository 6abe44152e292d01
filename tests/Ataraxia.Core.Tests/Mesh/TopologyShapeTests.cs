using Ataraxia.Cbor;
using Ataraxia.Testing;
using Xunit.Abstractions;

namespace Ataraxia.Tests.Mesh;

/// <summary>Nodes that are not directly connected find and reach each other in common shapes of partial mesh.</summary>
public sealed class TopologyShapeTests(ITestOutputHelper output)
{
    public static TheoryData<string> Shapes => ["line", "ring", "star", "grid"];

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Every_node_sees_every_other_and_reaches_the_farthest(string shape)
    {
        (int count, List<(int, int)> edges) = Shape(shape);
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(count);
        await mesh.LinkAllAsync(edges);

        TimeSpan converged = await mesh.WaitForVisibilityAsync();
        output.WriteLine($"{shape}: {count} nodes, {edges.Count} links, converged in {converged.TotalMilliseconds:F0} ms");

        for (int i = 0; i < count; i++)
        {
            int far = Farthest(count, edges, i);
            await AssertDeliveredAsync(mesh, i, far);
        }
    }

    [Fact]
    public async Task Random_partial_mesh_of_100_nodes_converges_and_routes()
    {
        const int count = 100;
        List<(int, int)> edges = RandomMesh(count, averageDegree: 3, seed: 42);
        await using Testing.Mesh mesh = await Testing.Mesh.CreateAsync(count);
        await mesh.LinkAllAsync(edges);

        TimeSpan converged = await mesh.WaitForVisibilityAsync(timeout: TimeSpan.FromSeconds(60));
        output.WriteLine($"100 nodes, {edges.Count} links (average degree {2.0 * edges.Count / count:F1}): every node saw the other 99 after {converged.TotalMilliseconds:F0} ms");

        var random = new Random(7);
        var sends = new List<Task>();
        for (int i = 0; i < count; i++)
        {
            int far = Farthest(count, edges, i);
            if (random.Next(2) == 0)
            {
                far = random.Next(count);
                if (far == i)
                {
                    far = (i + 1) % count;
                }
            }

            sends.Add(AssertDeliveredAsync(mesh, i, far));
        }

        await Task.WhenAll(sends).DefaultTimeout();
    }

    internal static async Task AssertDeliveredAsync(Testing.Mesh mesh, int from, int to)
    {
        string type = $"probe-{from}-{to}-{Guid.NewGuid():N}";
        var received = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Handler(object? sender, MessageEventArgs e)
        {
            if (e.Message.Type == type)
            {
                received.TrySetResult(e.Message);
            }
        }

        mesh[to].MessageReceived += Handler;
        try
        {
            Assert.True(mesh[from].TryGetNode(mesh[to].Id, out Node? target), $"node {from} does not see node {to}");
            await target.SendAsync(type, new CborMap { ["from"] = from, ["to"] = to }).DefaultTimeout();
            Message message = await received.Task.DefaultTimeout();
            Assert.Equal(mesh[from].Id, message.Source.Id);
            Assert.Equal(from, message.Data.AsMap()["from"].AsInt64());
        }
        finally
        {
            mesh[to].MessageReceived -= Handler;
        }
    }

    internal static (int Count, List<(int, int)> Edges) Shape(string shape)
    {
        switch (shape)
        {
            case "line":
                return (6, [.. Enumerable.Range(0, 5).Select(i => (i, i + 1))]);
            case "ring":
                return (8, [.. Enumerable.Range(0, 8).Select(i => (i, (i + 1) % 8))]);
            case "star":
                return (9, [.. Enumerable.Range(1, 8).Select(i => (0, i))]);
            default:
                var grid = new List<(int, int)>();
                for (int row = 0; row < 4; row++)
                {
                    for (int column = 0; column < 4; column++)
                    {
                        int node = (row * 4) + column;
                        if (column < 3)
                        {
                            grid.Add((node, node + 1));
                        }

                        if (row < 3)
                        {
                            grid.Add((node, node + 4));
                        }
                    }
                }

                return (16, grid);
        }
    }

    internal static List<(int, int)> RandomMesh(int count, double averageDegree, int seed)
    {
        // A random spanning tree keeps it connected; random extra edges bring the degree up.
        var random = new Random(seed);
        var edges = new HashSet<(int, int)>();
        for (int i = 1; i < count; i++)
        {
            int parent = random.Next(i);
            edges.Add((parent, i));
        }

        int wanted = (int)(averageDegree * count / 2);
        while (edges.Count < wanted)
        {
            int a = random.Next(count);
            int b = random.Next(count);
            if (a != b && !edges.Contains((a, b)) && !edges.Contains((b, a)))
            {
                edges.Add((Math.Min(a, b), Math.Max(a, b)));
            }
        }

        return [.. edges];
    }

    internal static int Farthest(int count, List<(int A, int B)> edges, int from)
    {
        var distance = Enumerable.Repeat(-1, count).ToArray();
        var queue = new Queue<int>();
        distance[from] = 0;
        queue.Enqueue(from);
        int last = from;
        while (queue.Count > 0)
        {
            int node = queue.Dequeue();
            last = node;
            foreach ((int a, int b) in edges)
            {
                int next = a == node ? b : b == node ? a : -1;
                if (next >= 0 && distance[next] < 0)
                {
                    distance[next] = distance[node] + 1;
                    queue.Enqueue(next);
                }
            }
        }

        return last;
    }
}
