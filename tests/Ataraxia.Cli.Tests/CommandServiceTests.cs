using System.Diagnostics;
using Ataraxia.Cbor;
using Ataraxia.Testing;

namespace Ataraxia.Cli.Tests;

/// <summary>What serve runs for a call: the allow list, process arguments, limits and the result.</summary>
public sealed class CommandServiceTests
{
    private static readonly NodeId Caller = NodeId.NewId();

    [Fact]
    public async Task An_allowed_caller_runs_the_command_and_gets_exit_code_stdout_and_stderr()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var service = new CommandService([ExposedCommand.Parse("run=sh -c 'printf \"%s|%s\" \"$1\" \"$ATARAXIA_CALLER\"; echo oops >&2; exit 4' script")], [Caller], new CommandLimits());

        CborMap result = Assert.IsType<CborMap>(await service.HandleAsync(Call("run", "it's $(fine)"), CancellationToken.None).AsTask().DefaultTimeout());

        Assert.Equal(4, result["exitCode"].AsInt64());
        Assert.Equal($"it's $(fine)|{Caller}", result["stdout"].AsString());
        Assert.Equal("oops\n", result["stderr"].AsString());
        Assert.False(result["truncated"].AsBoolean());
    }

    [Fact]
    public async Task Callers_not_on_the_allow_list_are_refused_before_anything_runs()
    {
        var runs = new List<CommandRun>();
        string marker = Path.Combine(Path.GetTempPath(), $"ataraxia-cli-{Guid.NewGuid():N}");
        using var service = new CommandService([new ExposedCommand("run", "touch", [marker])], [NodeId.NewId()], new CommandLimits(), runs.Add);

        var error = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => service.HandleAsync(Call("run"), CancellationToken.None).AsTask().DefaultTimeout());

        Assert.Equal($"Node {Caller} is not allowed to call `run`.", error.Message);
        Assert.False(File.Exists(marker));
        Assert.Null(Assert.Single(runs).ExitCode);
    }

    [Fact]
    public async Task Without_an_allow_list_every_caller_may_run_commands_and_numbers_and_booleans_become_text()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var service = new CommandService([ExposedCommand.Parse("echo=echo")], [], new CommandLimits());

        CborMap result = Assert.IsType<CborMap>(await service.HandleAsync(Call("echo", 1, 2.5, true, "x"), CancellationToken.None).AsTask().DefaultTimeout());

        Assert.Equal("1 2.5 true x\n", result["stdout"].AsString());
        Assert.Contains("echo", service.CreateDefinition("shell").Methods.Select(m => m.Name));
    }

    [Fact]
    public async Task Maps_and_arrays_are_not_command_arguments()
    {
        using var service = new CommandService([ExposedCommand.Parse("echo=echo")], [], new CommandLimits());

        var error = await Assert.ThrowsAsync<ArgumentException>(() => service.HandleAsync(Call("echo", "ok", new CborMap { ["a"] = 1 }), CancellationToken.None).AsTask().DefaultTimeout());

        Assert.StartsWith("Argument 2 is a map", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Output_beyond_the_limit_is_dropped_and_marked_truncated()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var service = new CommandService([ExposedCommand.Parse("count=seq 1 100000")], [], new CommandLimits { MaxOutputBytes = 1000 });

        CborMap result = Assert.IsType<CborMap>(await service.HandleAsync(Call("count"), CancellationToken.None).AsTask().DefaultTimeout());

        Assert.Equal(0, result["exitCode"].AsInt64());
        Assert.Equal(1000, result["stdout"].AsString().Length);
        Assert.StartsWith("1\n2\n3\n", result["stdout"].AsString(), StringComparison.Ordinal);
        Assert.True(result["truncated"].AsBoolean());
    }

    [Fact]
    public async Task A_command_that_runs_too_long_is_killed_and_the_call_fails()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var service = new CommandService([ExposedCommand.Parse("slow=sleep 30")], [], new CommandLimits { MaxTime = TimeSpan.FromMilliseconds(300) });
        var clock = Stopwatch.StartNew();

        // The service's own limit ends the call; the outer bound only keeps a broken limit from hanging the test.
        var error = await Assert.ThrowsAsync<TimeoutException>(() => service.HandleAsync(Call("slow"), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal("`slow` ran longer than 300ms and was stopped.", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"Took {clock.Elapsed}.");
    }

    [Fact]
    public async Task A_program_that_does_not_exist_fails_the_call()
    {
        using var service = new CommandService([ExposedCommand.Parse("x=/nonexistent/program")], [], new CommandLimits());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => service.HandleAsync(Call("x"), CancellationToken.None).AsTask().DefaultTimeout());

        Assert.StartsWith("Could not start /nonexistent/program", error.Message, StringComparison.Ordinal);
    }

    private static ServiceInvocation Call(string method, params CborValue[] arguments) => new(Caller, "shell", method, new CborArray(arguments));
}
