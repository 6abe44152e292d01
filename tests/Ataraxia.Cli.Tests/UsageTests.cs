namespace Ataraxia.Cli.Tests;

/// <summary>Bad input ends with one error line and the usage on stderr, exit code 2, and never a stack trace.</summary>
public sealed class UsageTests
{
    public static TheoryData<string[]> BadCommandLines => new()
    {
        Array.Empty<string>(),
        new[] { "bogus" },
        new[] { "send" },
        new[] { "send", "node", "type", "{not json" },
        new[] { "send", "--all", "--group", "g", "type" },
        new[] { "send", "--all", "type", "1", "extra" },
        new[] { "nodes", "--expect", "0" },
        new[] { "nodes", "--tcp", "70000" },
        new[] { "nodes", "--peer", "no-port" },
        new[] { "nodes", "--bind", "127.0.0.1" },
        new[] { "listen", "--ws-listen", "wss://0.0.0.0:0/mesh" },
        new[] { "listen", "--secret", "a", "--secret-file", "/dev/null" },
        new[] { "listen", "--secret-file", "/nonexistent/secret" },
        new[] { "call", "service" },
        new[] { "call", "service", "method", "[1," },
        new[] { "serve" },
        new[] { "serve", "--expose", "no-equals-sign" },
        new[] { "serve", "--expose", "x='unclosed" },
        new[] { "serve", "--expose", "x=echo", "--allow", "not/an/id" },
        new[] { "serve", "--expose", "x=echo", "--max-time", "-1s" },
        new[] { "send", "--exec", "true" },
    };

    internal static void AssertUsageError(CliProcess process, string usagePrefix)
    {
        IReadOnlyList<string> stderr = process.Stderr;
        Assert.True(stderr.Count == 3, process.Transcript());
        Assert.StartsWith("ataraxia: ", stderr[0], StringComparison.Ordinal);
        Assert.StartsWith(usagePrefix, stderr[1], StringComparison.Ordinal);
        Assert.StartsWith("Run 'ataraxia", stderr[2], StringComparison.Ordinal);
        Assert.DoesNotContain(stderr, l => l.Contains("Exception", StringComparison.Ordinal) || l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
        Assert.Empty(process.Stdout);
    }

    [Theory]
    [MemberData(nameof(BadCommandLines))]
    public async Task Bad_input_gives_one_error_line_the_usage_and_exit_code_2(string[] arguments)
    {
        await using CliProcess process = await CliProcess.RunAsync("ataraxia", arguments);

        Assert.True(process.ExitCode == 2, process.Transcript());
        AssertUsageError(process, "usage: ataraxia");
    }

    [Fact]
    public async Task Help_describes_every_command_and_exits_0()
    {
        await using CliProcess process = await CliProcess.RunAsync("help", ["--help"]);

        Assert.True(process.ExitCode == 0, process.Transcript());
        string help = string.Join('\n', process.Stdout);
        foreach (string command in new[] { "listen", "nodes", "send", "wait", "call", "services", "serve" })
        {
            Assert.Contains($"  {command}", help, StringComparison.Ordinal);
        }
    }
}
