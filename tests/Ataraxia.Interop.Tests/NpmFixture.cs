// The interop tests run in three collections so that the two that wait out ping timers (about 45 s each) overlap
// with each other and with the rest. The default limit (one test per core) would serialise them on a 2-core
// machine; most of the time these tests wait on sockets and child processes, not on the CPU.
[assembly: CollectionBehavior(MaxParallelThreads = 4)]

namespace Ataraxia.Interop.Tests;

/// <summary>
/// Makes sure the pinned JavaScript packages are installed (<c>npm ci</c> from package-lock.json), once per test
/// run whichever collection asks first. Does nothing when node is missing (the tests skip), and skips the install
/// when node_modules is already current (CI installs before running the tests). Fails every test that uses it,
/// with npm's output, when the install fails or takes too long.
/// </summary>
public sealed class NpmFixture : IAsyncLifetime
{
    /// <summary>The most an install may take; the registry is remote and the cache may be cold.</summary>
    public static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(3);

    // One install per process, shared by the collection fixtures of every collection (they start in parallel).
    private static readonly Lock InstallLock = new();
    private static Task? _install;

    public Task InitializeAsync()
    {
        if (JsEnvironment.SkipReason is not null)
        {
            return Task.CompletedTask;
        }

        lock (InstallLock)
        {
            return _install ??= Task.Run(InstallAsync);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>
    /// Gets whether node_modules matches package-lock.json: npm writes node_modules/.package-lock.json at the end
    /// of every install, so one not older than package-lock.json means nothing changed since.
    /// </summary>
    public static bool IsInstalled()
    {
        var installed = new FileInfo(Path.Combine(JsEnvironment.JsDirectory, "node_modules", ".package-lock.json"));
        var locked = new FileInfo(Path.Combine(JsEnvironment.JsDirectory, "package-lock.json"));
        return installed.Exists && locked.Exists && installed.LastWriteTimeUtc >= locked.LastWriteTimeUtc;
    }

    private static async Task InstallAsync()
    {
        if (IsInstalled())
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
}

/// <summary>Most tests that run JavaScript nodes: one after another.</summary>
[CollectionDefinition(Name)]
public sealed class JsNodeTests : ICollectionFixture<NpmFixture>
{
    public const string Name = "JavaScript node";
}

/// <summary>The link that must survive the JavaScript ping cadence (about 45 s of waiting), beside the others.</summary>
[CollectionDefinition(Name)]
public sealed class JsLivenessTests : ICollectionFixture<NpmFixture>
{
    public const string Name = "JavaScript liveness";
}

/// <summary>The frozen JavaScript node that must time out (about 40 s of waiting), beside the others.</summary>
[CollectionDefinition(Name)]
public sealed class JsFreezeTests : ICollectionFixture<NpmFixture>
{
    public const string Name = "JavaScript freeze";
}
