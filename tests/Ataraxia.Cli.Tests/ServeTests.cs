using System.Text.Json.Nodes;

namespace Ataraxia.Cli.Tests;

/// <summary>serve --expose, call and services as separate processes over TCP on 127.0.0.1.</summary>
[Trait("Category", "Integration")]
public sealed class ServeTests
{
    [Fact]
    public async Task A_call_runs_the_exposed_command_with_the_arguments_as_process_arguments_and_prints_its_result()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // The exposed commands are POSIX programs.
        }

        await using CliProcess serve = CliProcess.Start("serve", ["serve", "--expose", "echo=echo", "--expose", "greet=printf '<%s>'", "--tcp", "0", "--bind", "127.0.0.1", "--json"]);
        (string serveId, int? port) = await serve.WaitReadyAsync();
        await serve.WaitForEventAsync("serving");
        string peer = $"127.0.0.1:{port}";

        // Shell syntax in the arguments stays text: no shell ever sees it.
        await using CliProcess call = await CliProcess.RunAsync("call", ["call", "shell", "echo", "hello world", "$(id)", "; rm -rf ~", "`uname`", "42", "--peer", peer]);
        await using CliProcess greet = await CliProcess.RunAsync("greet", ["call", "shell", "greet", "a b", "c", "--peer", peer]);

        Assert.True(call.ExitCode == 0, call.Transcript());
        Assert.Equal(["""{"exitCode":0,"stdout":"hello world $(id) ; rm -rf ~ `uname` 42\n","stderr":"","truncated":false}"""], call.Stdout);
        Assert.True(greet.ExitCode == 0, greet.Transcript());
        Assert.Equal(["""{"exitCode":0,"stdout":"<a b><c>","stderr":"","truncated":false}"""], greet.Stdout);
        JsonObject ran = await serve.WaitForEventAsync("call", e => (string?)e["method"] == "echo");
        Assert.Equal(["hello world", "$(id)", "; rm -rf ~", "`uname`", "42"], ran["arguments"]!.AsArray().Select(a => (string)a!));

        // The mesh lists the service with its provider and methods.
        await using CliProcess services = await CliProcess.RunAsync("services", ["services", "--expect", "1", "--wait", "20s", "--peer", peer, "--json"]);
        Assert.True(services.ExitCode == 0, services.Transcript());
        JsonObject shell = Assert.Single(services.Events, e => (string?)e["event"] == "service");
        Assert.Equal("shell", (string?)shell["id"]);
        Assert.Equal([serveId], shell["providers"]!.AsArray().Select(p => (string)p!));
        Assert.Equal(["echo", "greet"], shell["methods"]!.AsArray().Select(m => (string)m!["name"]!));
    }

    [Fact]
    public async Task Allow_lets_only_the_listed_nodes_run_commands_and_others_get_an_error()
    {
        // The only allowed caller is another node of the mesh, not the one that calls.
        await using CliProcess other = CliProcess.Start("other", ["listen", "--tcp", "0", "--bind", "127.0.0.1", "--json"]);
        (string otherId, _) = await other.WaitReadyAsync();
        await using CliProcess serve = CliProcess.Start("serve", ["serve", "--expose", "echo=echo", "--allow", otherId, "--service", "tools", "--tcp", "0", "--bind", "127.0.0.1", "--json"]);
        (_, int? port) = await serve.WaitReadyAsync();

        await using CliProcess call = await CliProcess.RunAsync("call", ["call", "tools", "echo", "hi", "--peer", $"127.0.0.1:{port}", "--json"]);

        Assert.True(call.ExitCode == 3, call.Transcript());
        string callerId = (string)call.Events.Single(e => (string?)e["event"] == "ready")["id"]!;
        Assert.Equal([$"ataraxia: tools.echo failed: Node {callerId} is not allowed to call `echo`."], call.Stderr);
        Assert.DoesNotContain(call.Events, e => (string?)e["event"] == "result");
        JsonObject refused = await serve.WaitForEventAsync("call-failed");
        Assert.Equal(callerId, (string?)refused["caller"]);
        Assert.DoesNotContain(serve.Events, e => (string?)e["event"] == "call");
    }
}
