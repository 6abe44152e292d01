namespace Ataraxia.Interop.Tests;

/// <summary>
/// Installs the pinned JavaScript packages (<c>npm ci</c> from package-lock.json) once for the collection. Does
/// nothing when node is missing (the tests skip); fails every test of the collection, with npm's output, when
/// the install fails or takes too long.
/// </summary>
public sealed class NpmFixture : IAsyncLifetime
{
    /// <summary>The most an install may take; the registry is remote and the cache may be cold.</summary>
    public static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(3);

    public async Task InitializeAsync()
    {
        if (JsEnvironment.SkipReason is not null)
        {
            return;
        }

        string npm = JsEnvironment.Npm
            ?? throw new InvalidOperationException("node is on PATH but npm is not; npm is needed to install the JavaScript packages of the interop tests.");

        // --ignore-scripts: nothing here needs a native build (no Noise on the plain transport); sodium-native
        // ships prebuilt binaries anyway. No audit or funding requests: only the packages themselves are fetched.
        (int exitCode, string output) = await JsEnvironment.RunAsync(
            npm,
            ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=warn"],
            JsEnvironment.JsDirectory,
            InstallTimeout);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"npm ci failed in {JsEnvironment.JsDirectory} with exit code {exitCode}:\n{output}");
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>The tests that run a JavaScript node. They run one after another and share one npm install.</summary>
[CollectionDefinition(Name)]
public sealed class JsNodeTests : ICollectionFixture<NpmFixture>
{
    public const string Name = "JavaScript node";
}
