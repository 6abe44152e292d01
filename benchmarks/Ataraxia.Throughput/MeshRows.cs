namespace Ataraxia.Throughput;

/// <summary>Mesh convergence time and memory for large in-memory meshes, and idle memory per connected peer.</summary>
public static class MeshRows
{
    public static Task RunAsync(RunContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.CompletedTask;
    }
}
