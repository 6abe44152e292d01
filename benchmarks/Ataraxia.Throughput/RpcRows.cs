using System.Diagnostics;
using System.Globalization;

namespace Ataraxia.Throughput;

/// <summary>A started RPC system: its echo call, and what to tear down once the rows are measured.</summary>
/// <param name="Echo">Calls the remote echo: the argument comes back as the result.</param>
/// <param name="Resources">The server, client and connections behind <paramref name="Echo"/>.</param>
/// <param name="Note">How the call travels, for the row's note.</param>
public sealed record RpcEcho(Func<string, CancellationToken, Task<string>> Echo, IAsyncDisposable Resources, string Note) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Resources.DisposeAsync();
}

/// <summary>
/// One RPC system's two rows: <c>Id</c> (calls/s with <see cref="RpcRows.Window"/> calls in flight) and
/// <c>Id-rtt</c> (one call at a time). <see cref="StartAsync"/> starts the server and the client.
/// </summary>
public sealed record RpcSystem(string Id, string Name, Func<CancellationToken, Task<RpcEcho>> StartAsync)
{
    public string RoundTripId => Id + "-rtt";

    /// <summary>Gets the id of the throughput row the calls/s are divided by in "vs baseline".</summary>
    public string? Baseline { get; init; }

    /// <summary>Gets the id of the latency row the p50 is divided by in "vs baseline".</summary>
    public string? RoundTripBaseline { get; init; }
}

/// <summary>
/// RPC rows: a small echo call (a 16-character string in, the same string out), measured as completed calls per
/// second with <see cref="Window"/> calls outstanding, and as the latency of one call at a time. An RPC system is
/// added as an <see cref="RpcSystem"/>: a delegate that starts it and returns its echo call.
/// </summary>
public static class RpcRows
{
    /// <summary>The number of calls kept outstanding in the throughput row.</summary>
    public const int Window = 64;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Gets the systems measured, in order; the first is the baseline of the others.</summary>
    public static IReadOnlyList<RpcSystem> Systems { get; } =
    [
        new("rpc-signalr", "ASP.NET Core SignalR hub invocation", SignalREcho.StartAsync) { RoundTripBaseline = "raw-rtt" },
        new("rpc-services", "Ataraxia services call, TCP", ServicesEcho.StartPlainAsync) { Baseline = "rpc-signalr", RoundTripBaseline = "rpc-signalr-rtt" },
        new("rpc-services-tls", "Ataraxia services call, TCP + TLS", ServicesEcho.StartTlsAsync) { Baseline = "rpc-signalr", RoundTripBaseline = "rpc-signalr-rtt" },
    ];

    public static async Task RunAsync(RunContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (RpcSystem system in Systems)
        {
            await RunAsync(system, context);
        }
    }

    /// <summary>Measures the rows of one system that <c>--only</c> asks for; a failure becomes the rows' note.</summary>
    public static async Task RunAsync(RpcSystem system, RunContext context)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(context);
        bool throughput = context.Wants(system.Id);
        bool roundTrip = context.Wants(system.RoundTripId);
        if (!throughput && !roundTrip)
        {
            return;
        }

        Row throughputRow = new()
        {
            Id = system.Id,
            Name = $"{system.Name}, echo 16 chars, {Window} calls in flight",
            Baseline = system.Baseline,
        };
        Row roundTripRow = new()
        {
            Id = system.RoundTripId,
            Name = $"{system.Name}, echo 16 chars, round trip",
            Baseline = system.RoundTripBaseline,
        };

        RpcEcho? echo = null;
        try
        {
            using (var start = new CancellationTokenSource(StartTimeout))
            {
                echo = await system.StartAsync(start.Token);
            }

            // The first calls of a process would otherwise pay for the JIT's tiering inside the measured rows:
            // an unreported run with the window full brings the call path to its final code first (2 s, as in
            // TcpRows, also with --quick: a shorter one left the quick rows at about twice the CPU per call).
            await WindowedAsync(echo, TimeSpan.FromSeconds(2), context, measure: false);
            if (throughput)
            {
                Settle();
                (double rate, double allocated, double cpu, string? problem) = await WindowedAsync(echo, context.Duration, context, measure: true);
                context.Report.Add(throughputRow with
                {
                    MessagesPerSecond = rate,
                    AllocatedPerMessage = allocated,
                    CpuPerMessage = cpu,
                    Note = Join(echo.Note, problem),
                });
            }

            if (roundTrip)
            {
                Settle();
                (List<double> samples, string? problem) = await SequentialAsync(echo, context);
                context.Report.Add(Measure.LatencyRow(roundTripRow.Id, roundTripRow.Name, samples, baseline: roundTripRow.Baseline) with
                {
                    Note = Join(string.Create(CultureInfo.InvariantCulture, $"{samples.Count:N0} calls after {context.Warmup.TotalSeconds:0.#} s of warm-up"), problem),
                });
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The rows stay in the table, with the reason; the whole exception goes to stderr.
            await Console.Error.WriteLineAsync($"  {system.Id} failed: {ex}");
            string message = ex.Message.ReplaceLineEndings(" ");
            string note = "failed: " + (message.Length > 400 ? message[..400] + "…" : message);
            if (throughput && context.Report.Find(throughputRow.Id) is null)
            {
                context.Report.Add(throughputRow with { Note = note });
            }

            if (roundTrip && context.Report.Find(roundTripRow.Id) is null)
            {
                context.Report.Add(roundTripRow with { Note = note });
            }
        }
        finally
        {
            if (echo is not null)
            {
                await echo.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Keeps <see cref="Window"/> calls outstanding (each caller issues its next call when the last one returns)
    /// and counts the calls completed during the run's duration, after its warm-up; or, unmeasured, for
    /// <paramref name="duration"/>.
    /// </summary>
    private static async Task<(double Rate, double Allocated, double Cpu, string? Problem)> WindowedAsync(RpcEcho echo, TimeSpan duration, RunContext context, bool measure)
    {
        long completed = 0;
        long wrong = 0;
        long failed = 0;
        string? firstError = null;
        using var stop = new CancellationTokenSource();

        // A call that has not returned long after the row should have ended fails instead of hanging the run.
        using var deadline = new CancellationTokenSource(context.Warmup + duration + TimeSpan.FromSeconds(30));
        Task[] callers = [.. Enumerable.Range(0, Window).Select(i => Task.Run(async () =>
        {
            string argument = Argument(i);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    string result = await echo.Echo(argument, deadline.Token);
                    if (result != argument)
                    {
                        Interlocked.Increment(ref wrong);
                    }

                    Interlocked.Increment(ref completed);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // A broken connection fails every call: this caller stops rather than spin.
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, ex.GetType().Name + ": " + ex.Message, null);
                    return;
                }
            }
        }))];

        double rate = double.NaN;
        double allocated = double.NaN;
        double cpu = double.NaN;
        if (measure)
        {
            (long count, TimeSpan elapsed, allocated, cpu) = await Measure.CountWithAllocationsAsync(() => Interlocked.Read(ref completed), context with { Duration = duration });
            rate = count / elapsed.TotalSeconds;
        }
        else
        {
            await Task.Delay(duration);
        }

        await stop.CancelAsync();
        await Task.WhenAll(callers);
        if (failed > 0 && Interlocked.Read(ref completed) == 0)
        {
            throw new InvalidOperationException($"Every call failed; the first: {firstError}");
        }

        return (rate, allocated, cpu, Problems(wrong, failed, firstError));
    }

    /// <summary>One call at a time: <see cref="RunContext.Warmup"/> of calls, then <see cref="RunContext.RttSamples"/> timed ones.</summary>
    private static async Task<(List<double> Samples, string? Problem)> SequentialAsync(RpcEcho echo, RunContext context)
    {
        string argument = Argument(0);
        long wrong = 0;
        var samples = new List<double>(context.RttSamples);
        using var deadline = new CancellationTokenSource(context.Warmup + TimeSpan.FromSeconds(120));
        Stopwatch warmup = Stopwatch.StartNew();
        while (samples.Count < context.RttSamples)
        {
            long start = Stopwatch.GetTimestamp();
            string result = await echo.Echo(argument, deadline.Token);
            double micros = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            if (result != argument)
            {
                wrong++;
            }

            if (warmup.Elapsed > context.Warmup)
            {
                samples.Add(micros);
            }
        }

        return (samples, Problems(wrong, 0, null));
    }

    /// <summary>The echoed string of caller <paramref name="caller"/>: 16 ASCII characters, distinct per caller.</summary>
    private static string Argument(int caller) => string.Create(CultureInfo.InvariantCulture, $"echo-{caller:D3}-abcdefg");

    private static string? Problems(long wrong, long failed, string? firstError) =>
        Join(
            wrong > 0 ? string.Create(CultureInfo.InvariantCulture, $"{wrong} results differed from their argument") : null,
            failed > 0 ? string.Create(CultureInfo.InvariantCulture, $"{failed} of {Window} callers stopped on a failure ({firstError})") : null);

    private static string? Join(params string?[] parts)
    {
        string joined = string.Join("; ", parts.Where(p => !string.IsNullOrEmpty(p)));
        return joined.Length == 0 ? null : joined;
    }

    // Every row starts from a collected heap, as in TcpRows.
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
