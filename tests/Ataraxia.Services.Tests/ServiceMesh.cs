using Ataraxia.Testing;

namespace Ataraxia.ServicesTests;

/// <summary>An in-memory mesh whose nodes all run <see cref="Services"/>.</summary>
internal sealed class ServiceMesh : IAsyncDisposable
{
    private ServiceMesh(Mesh mesh, Services[] services)
    {
        Mesh = mesh;
        Services = services;
    }

    public Mesh Mesh { get; }

    public Services[] Services { get; }

    public Services this[int index] => Services[index];

    /// <summary>Creates <paramref name="count"/> nodes linked as a chain (0–1–2…) unless <paramref name="edges"/> says otherwise, and waits until all see each other.</summary>
    public static async Task<ServiceMesh> CreateAsync(int count, IEnumerable<(int A, int B)>? edges = null, ServicesOptions? options = null)
    {
        Mesh mesh = await Mesh.CreateAsync(count);
        await mesh.LinkAllAsync(edges ?? Enumerable.Range(0, count - 1).Select(i => (i, i + 1)));
        await mesh.WaitForVisibilityAsync();
        var services = new Services[count];
        for (int i = 0; i < count; i++)
        {
            services[i] = new Services(mesh[i], options);
            await services[i].JoinAsync();
        }

        await TaskTimeoutExtensions.WaitUntilAsync(() => services.All(s => s.MemberCount() == count - 1));
        return new ServiceMesh(mesh, services);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Services s in Services)
        {
            await s.DisposeAsync();
        }

        await Mesh.DisposeAsync();
    }
}

internal static class ServicesTestExtensions
{
    /// <summary>Gets how many other nodes this node knows as members of the services group.</summary>
    public static int MemberCount(this Services services) => new NamedGroup(services.Network, Services.GroupName).Members.Count;

    /// <summary>Waits until <paramref name="reference"/> has exactly <paramref name="providers"/> providers.</summary>
    public static Task WaitForProvidersAsync(this ServiceReference reference, int providers) =>
        TaskTimeoutExtensions.WaitUntilAsync(() => reference.Providers.Count == providers);
}
