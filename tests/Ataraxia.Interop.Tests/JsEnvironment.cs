using Ataraxia.Testing;
using System.Reflection;

namespace Ataraxia.Interop.Tests;

/// <summary>Where the JavaScript side lives: the <c>node</c> executable on PATH and the <c>js</c> folder of this project.</summary>
public static class JsEnvironment
{
    private static readonly Lazy<string?> NodePath = new(() => FindOnPath("node"));
    private static readonly Lazy<string?> NpmPath = new(() => FindOnPath("npm"));
    private static readonly Lazy<string?> KillPath = new(() => FindOnPath("kill"));

    /// <summary>Gets the full path of <c>node</c>, or <see langword="null"/> when it is not on PATH.</summary>
    public static string? Node => NodePath.Value;

    /// <summary>Gets the full path of <c>npm</c>, or <see langword="null"/> when it is not on PATH.</summary>
    public static string? Npm => NpmPath.Value;

    /// <summary>Gets the full path of <c>kill</c>, or <see langword="null"/> when it is not on PATH.</summary>
    public static string? Kill => KillPath.Value;

    /// <summary>Gets the folder holding package.json, package-lock.json and node.js.</summary>
    public static string JsDirectory { get; } =
        typeof(JsEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "InteropJsDirectory").Value!;

    /// <summary>Gets the reason JavaScript tests skip, or <see langword="null"/> when they run.</summary>
    public static string? SkipReason => Node is null
        ? "node is not on PATH; install Node.js 20 to run the JavaScript interop tests."
        : null;

    /// <summary>Gets the reason tests that freeze a process with SIGSTOP skip, or <see langword="null"/> when they run.</summary>
    public static string? FreezeSkipReason =>
        SkipReason ?? (!OperatingSystem.IsLinux()
            ? "Freezing a process (kill -STOP) is only exercised on Linux."
            : Kill is null ? "kill is not on PATH; it is needed to freeze a process with SIGSTOP." : null);

    /// <summary>Runs a program to completion with a deadline and returns its exit code and combined output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout) =>
        ExternalProgram.RunAsync(fileName, arguments, workingDirectory, timeout);

    private static string? FindOnPath(string name) => ExternalProgram.FindOnPath(name);
}

/// <summary>A fact that needs a JavaScript node: skipped with a reason when <c>node</c> is not on PATH, and run (and able to fail) otherwise.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class JsFactAttribute : FactAttribute
{
    public JsFactAttribute()
    {
        if (JsEnvironment.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A theory that needs a JavaScript node (see <see cref="JsFactAttribute"/>).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class JsTheoryAttribute : TheoryAttribute
{
    public JsTheoryAttribute()
    {
        if (JsEnvironment.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A fact that freezes a JavaScript node with SIGSTOP: runs on Linux with node and kill on PATH, skips with the reason elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class JsFreezeFactAttribute : FactAttribute
{
    public JsFreezeFactAttribute()
    {
        if (JsEnvironment.FreezeSkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
