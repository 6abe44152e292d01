using System.Diagnostics;
using System.Reflection;
using System.Text;

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
    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(fileName)} {string.Join(' ', startInfo.ArgumentList)} did not finish within {timeout}. Output:\n{Read(output)}");
        }

        // The parameterless wait also drains the redirected output.
        await process.WaitForExitAsync(CancellationToken.None);
        return (process.ExitCode, Read(output));
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Read(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static string? FindOnPath(string name)
    {
        string[] candidates = OperatingSystem.IsWindows() ? [name + ".exe", name + ".cmd"] : [name];
        string path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (string directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string candidate in candidates)
            {
                string full = Path.Combine(directory, candidate);
                if (File.Exists(full))
                {
                    return full;
                }
            }
        }

        return null;
    }
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
