using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Ataraxia.Cbor;
using Ataraxia.Protocol;
using Ataraxia.Testing;
using Xunit.Abstractions;

namespace Ataraxia.Interop.Tests;

/// <summary>
/// Base of the interop test classes: starts C# and JavaScript nodes, keeps them for transcripts, and always
/// disposes them at the end (JavaScript processes are killed if they do not exit by themselves).
/// </summary>
public abstract class InteropTest(ITestOutputHelper output) : IAsyncLifetime
{
    protected const string Secret = "s3cret";

    private readonly List<DotNetNode> _dotNetNodes = [];
    private readonly List<JsNode> _jsNodes = [];
    private readonly HashSet<JsNode> _killed = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    protected ITestOutputHelper Output => output;

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        output.WriteLine(Transcripts(maxEvents: 200));
        DotNetNode[] dotNetNodes;
        JsNode[] jsNodes;
        lock (_dotNetNodes)
        {
            dotNetNodes = [.. _dotNetNodes];
            jsNodes = [.. _jsNodes];
        }

        try
        {
            await Task.WhenAll(dotNetNodes.Select(n => n.DisposeAsync().AsTask()));
        }
        finally
        {
            await Task.WhenAll(jsNodes.Select(n => n.DisposeAsync().AsTask()));
        }
    }

    protected static string Hex(NodeId id) => DotNetNode.Hex(id);

    protected static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The value a payload decodes to after encoding (JavaScript numbers: integral floats become integers).</summary>
    protected static CborValue Normalize(CborValue value) => CborValue.Decode(value.Encode());

    protected static bool IsTrace(JsonObject e, string direction, string message) =>
        JsNode.Is(e, "trace") && (string?)e["dir"] == direction && (string?)e["msg"] == message;

    protected async Task<DotNetNode> StartDotNetAsync(string name, string? secret = null, PeerSessionOptions? session = null, Func<NetworkOptions, NetworkOptions>? configure = null)
    {
        var node = new DotNetNode(name, secret, session, configure);
        lock (_dotNetNodes)
        {
            _dotNetNodes.Add(node);
        }

        await node.JoinAsync();
        return node;
    }

    protected async Task<JsNode> StartJsAsync(string name, string? secret = null)
    {
        JsNode node = await JsNode.StartAsync(name, secret);
        lock (_dotNetNodes)
        {
            _jsNodes.Add(node);
        }

        return node;
    }

    /// <summary>Kills a JavaScript node on purpose; it is exempt from <see cref="AssertHealthy"/> from then on.</summary>
    protected async Task KillAsync(JsNode node)
    {
        lock (_dotNetNodes)
        {
            _killed.Add(node);
        }

        await node.KillAsync();
    }

    /// <summary>Writes a timestamped line to the test output.</summary>
    protected void Note(string text) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,7:F2} s  {text}");

    /// <summary>Fails if a JavaScript node reported an uncaught exception or exited, or a C# node logged an error.</summary>
    protected void AssertHealthy()
    {
        List<JsNode> jsNodes;
        List<DotNetNode> dotNetNodes;
        lock (_dotNetNodes)
        {
            jsNodes = [.. _jsNodes.Where(n => !_killed.Contains(n))];
            dotNetNodes = [.. _dotNetNodes];
        }

        foreach (JsNode node in jsNodes)
        {
            node.AssertHealthy();
        }

        foreach (DotNetNode node in dotNetNodes)
        {
            node.AssertNoErrorsLogged();
        }
    }

    /// <summary>
    /// Polls <paramref name="problem"/> every 50 ms until it reports none (<see langword="null"/>); fails with the
    /// last problem and the transcripts after <paramref name="timeout"/> (30 s by default).
    /// </summary>
    protected async Task EventuallyAsync(Func<Task<string?>> problem, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        TimeSpan limit = timeout ?? TaskTimeoutExtensions.DefaultTimeoutValue;
        var elapsed = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (true)
        {
            string? why = await problem();
            if (why is null)
            {
                return;
            }

            if (limit != Timeout.InfiniteTimeSpan && elapsed.Elapsed > limit)
            {
                throw new TimeoutException($"Still not done after {limit} at {Path.GetFileName(file)}:{line}: {why}\n{Transcripts()}");
            }

            await timer.WaitForNextTickAsync();
        }
    }

    protected string Transcripts(int maxEvents = 80)
    {
        lock (_dotNetNodes)
        {
            return string.Join('\n', _dotNetNodes.Select(n => n.Transcript()).Concat(_jsNodes.Select(n => n.Transcript(maxEvents))));
        }
    }

    protected static string Describe(IEnumerable<string> ids) => "[" + string.Join(", ", ids.Order(StringComparer.Ordinal)) + "]";

    protected static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s";
}
