using System.Diagnostics;
using System.Text.Json.Nodes;
using Ataraxia.Testing;

namespace Ataraxia.Cli.Tests;

/// <summary>wait as a remote semaphore: its exit codes and --exec.</summary>
[Trait("Category", "Integration")]
public sealed class WaitTests
{
    [Fact]
    public async Task Wait_exits_0_with_the_first_message_of_its_type_whose_payload_matches_and_ignores_the_others()
    {
        await using CliProcess wait = CliProcess.Start("wait", ["wait", "deploy", "--match", """{"env":"prod"}""", "--tcp", "0", "--bind", "127.0.0.1", "--json", "--timeout", "60s"]);
        (string waitId, int? port) = await wait.WaitReadyAsync();
        string peer = $"127.0.0.1:{port}";

        // Sent straight to the waiting node: a completed send means that node has the message.
        await SendAsync(peer, waitId, "deploy", """{"env":"test"}""");
        await SendAsync(peer, waitId, "rollback", """{"env":"prod"}""");
        await TaskTimeoutExtensions.ExpectNothingAsync();
        Assert.False(wait.Process.HasExited, wait.Transcript());

        string senderId = await SendAsync(peer, waitId, "deploy", """{"env":"prod","version":3}""");

        await wait.WaitForExitAsync();
        Assert.True(wait.ExitCode == 0, wait.Transcript());
        JsonObject message = Assert.Single(wait.Events, e => (string?)e["event"] == "message");
        Assert.Equal(senderId, (string?)message["source"]);
        Assert.Equal("deploy", (string?)message["type"]);
        Assert.Equal("""{"env":"prod","version":3}""", message["data"]!.ToJsonString());
    }

    [Fact]
    public async Task Wait_exits_1_with_one_line_on_stderr_when_the_timeout_passes()
    {
        var clock = Stopwatch.StartNew();

        await using CliProcess wait = await CliProcess.RunAsync("wait", ["wait", "never", "--timeout", "1s", "--tcp", "0", "--bind", "127.0.0.1"]);

        Assert.True(wait.ExitCode == 1, wait.Transcript());
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"Exited after {clock.Elapsed}.");
        Assert.Equal(["ataraxia: Timed out after 1s waiting for a never message."], wait.Stderr);
        Assert.Empty(wait.Stdout);
    }

    [Theory]
    [InlineData("wait")]
    [InlineData("wait", "ready", "--timeout", "soon")]
    [InlineData("wait", "ready", "--match", "{\"env\":")]
    [InlineData("wait", "ready", "--from", "not/an/id")]
    [InlineData("wait", "ready", "--exec")]
    public async Task Wait_exits_2_with_a_one_line_error_and_the_usage_on_a_usage_error(params string[] arguments)
    {
        await using CliProcess wait = await CliProcess.RunAsync("wait", arguments);

        Assert.True(wait.ExitCode == 2, wait.Transcript());
        UsageTests.AssertUsageError(wait, "usage: ataraxia wait <type>");
    }

    [Fact]
    public async Task Exec_runs_the_command_with_the_message_in_its_environment_and_exits_with_its_code()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // The command is a POSIX shell script.
        }

        await using CliProcess wait = CliProcess.Start(
            "wait",
            ["wait", "job", "--tcp", "0", "--bind", "127.0.0.1", "--json", "--timeout", "60s",
             "--exec", "sh", "-c", "echo \"env:$ATARAXIA_SOURCE|$ATARAXIA_TYPE|$ATARAXIA_DATA|$1\"; exit 7", "job-script", "--not-an-option-of-ataraxia"]);
        (string waitId, int? port) = await wait.WaitReadyAsync();

        string senderId = await SendAsync($"127.0.0.1:{port}", waitId, "job", """{"name":"backup","files":["a b","c"]}""");

        await wait.WaitForExitAsync();
        Assert.True(wait.ExitCode == 7, wait.Transcript());
        Assert.Contains($"env:{senderId}|job|{{\"name\":\"backup\",\"files\":[\"a b\",\"c\"]}}|--not-an-option-of-ataraxia", wait.Stdout);
    }

    /// <summary>Sends one message with the tool (connected to <paramref name="peer"/>); returns the sender's node id.</summary>
    private static async Task<string> SendAsync(string peer, string target, string type, string json)
    {
        await using CliProcess send = await CliProcess.RunAsync("send", ["send", target, type, json, "--timeout", "20s", "--peer", peer, "--json"]);
        Assert.True(send.ExitCode == 0, send.Transcript());
        return (string)send.Events.Single(e => (string?)e["event"] == "ready")["id"]!;
    }
}
