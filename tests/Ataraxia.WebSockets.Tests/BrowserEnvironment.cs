using Ataraxia.Testing;
using System.Reflection;
using System.Text;

namespace Ataraxia.WebSockets.Tests;

/// <summary>
/// What the browser test needs from the machine: headless Chromium, and node with npm to bundle the JavaScript
/// library (browser/package-lock.json pins it and esbuild).
/// </summary>
internal static class BrowserEnvironment
{
    /// <summary>The most <c>npm ci</c> may take; the registry is remote and the cache may be cold.</summary>
    public static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(3);

    private static readonly Lazy<string?> ChromiumPath = new(() => FindOnPath("chromium") ?? FindOnPath("chromium-browser"));
    private static readonly Lazy<string?> NodePath = new(() => FindOnPath("node"));
    private static readonly Lazy<string?> NpmPath = new(() => FindOnPath("npm"));
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    /// <summary>Gets the full path of Chromium, or <see langword="null"/> when it is not on PATH.</summary>
    public static string? Chromium => ChromiumPath.Value;

    public static string? Node => NodePath.Value;

    public static string? Npm => NpmPath.Value;

    /// <summary>Gets the folder holding package.json, package-lock.json, page.js and build.mjs.</summary>
    public static string Directory { get; } =
        typeof(BrowserEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "BrowserDirectory").Value!;

    /// <summary>Gets why the browser test skips, or <see langword="null"/> when it runs.</summary>
    public static string? SkipReason =>
        Chromium is null ? "chromium is not on PATH; install Debian's chromium package (apt-get install chromium) to run the browser test."
        : Node is null ? "node is not on PATH; install Node.js 20 to bundle the JavaScript library for the browser test."
        : Npm is null ? "npm is not on PATH; it installs the JavaScript library for the browser test (npm ci in tests/Ataraxia.WebSockets.Tests/browser)."
        : null;

    /// <summary>Runs <c>npm ci</c> unless node_modules already matches package-lock.json (CI installs up front), then bundles the page.</summary>
    /// <returns>The path of the bundled script, in a fresh temporary folder.</returns>
    public static async Task<string> BundleAsync(string outputDirectory)
    {
        await InstallGate.WaitAsync();
        try
        {
            if (!IsInstalled())
            {
                // --ignore-scripts: esbuild's binary comes from its platform package; its install script only
                // optimises the launcher. No audit or funding requests: only the packages themselves are fetched.
                (int code, string output) = await RunAsync(Npm!, ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=warn"], Directory, InstallTimeout);
                if (code != 0)
                {
                    throw new InvalidOperationException($"npm ci failed in {Directory} with exit code {code}:\n{output}");
                }
            }
        }
        finally
        {
            InstallGate.Release();
        }

        string bundle = Path.Combine(outputDirectory, "bundle.js");
        (int exitCode, string log) = await RunAsync(Node!, ["build.mjs", bundle], Directory, TimeSpan.FromMinutes(1));
        if (exitCode != 0 || !File.Exists(bundle))
        {
            throw new InvalidOperationException($"esbuild (node build.mjs) failed with exit code {exitCode}:\n{log}");
        }

        return bundle;
    }

    /// <summary>
    /// Gets whether node_modules matches package-lock.json: npm writes node_modules/.package-lock.json at the end
    /// of every install, so one not older than package-lock.json means nothing changed since.
    /// </summary>
    private static bool IsInstalled()
    {
        var installed = new FileInfo(Path.Combine(Directory, "node_modules", ".package-lock.json"));
        var locked = new FileInfo(Path.Combine(Directory, "package-lock.json"));
        return installed.Exists && locked.Exists && installed.LastWriteTimeUtc >= locked.LastWriteTimeUtc;
    }

    /// <summary>Runs a program to completion with a deadline and returns its exit code and combined output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout) =>
        ExternalProgram.RunAsync(fileName, arguments, workingDirectory, timeout);

    /// <summary>Appends a line of a child process's output (thread-safe).</summary>
    public static void Append(StringBuilder output, string? line) => ExternalProgram.Append(output, line);

    /// <summary>Reads what <see cref="Append"/> collected so far.</summary>
    public static string Read(StringBuilder output) => ExternalProgram.Read(output);

    private static string? FindOnPath(string name) => ExternalProgram.FindOnPath(name);
}

/// <summary>A fact that runs only where Chromium, node and npm are installed, and says which is missing when skipped.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (BrowserEnvironment.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
