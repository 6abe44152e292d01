using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests.Discovery;

/// <summary>
/// Two network namespaces, A and B, joined by veth links (<c>va</c>–<c>vb</c>, <c>wa</c>–<c>wb</c>, …), in which
/// the mDNS socket tests run <see cref="MdnsProbe"/> child processes. Nothing here touches the host's interfaces:
/// every socket is opened by a process started with <c>ip netns exec</c>, so it lives in the namespace.
/// </summary>
/// <remarks>
/// Why child processes rather than setns(2) on a thread: the transport lists interfaces and watches network changes
/// from thread-pool threads (and .NET reads /sys), which would see the host's namespace; a whole process in the
/// namespace sees only the namespace.
/// </remarks>
internal sealed class MdnsNamespaceLan : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);

    private readonly List<string> _namespaces = [];

    private MdnsNamespaceLan(string prefix)
    {
        A = prefix + "a";
        B = prefix + "b";
    }

    /// <summary>Gets the first namespace's name.</summary>
    public string A { get; }

    /// <summary>Gets the second namespace's name.</summary>
    public string B { get; }

    /// <summary>Gets a value indicating whether the kernel has IPv6 (the links then have link-local addresses).</summary>
    public static bool IPv6Available => Directory.Exists("/proc/sys/net/ipv6");

    /// <summary>Creates the namespaces and one veth link per name (<c>v</c> gives <c>va</c> in A and <c>vb</c> in B).</summary>
    public static async Task<MdnsNamespaceLan> CreateAsync(params string[] links)
    {
        var lan = new MdnsNamespaceLan($"atx-sock-{Random.Shared.Next():x8}");
        try
        {
            foreach (string ns in (string[])[lan.A, lan.B])
            {
                await IpAsync("netns", "add", ns);
                lan._namespaces.Add(ns);
                await IpAsync("-n", ns, "link", "set", "lo", "up");
                if (IPv6Available)
                {
                    // No duplicate address detection: link-local addresses are usable at once, not "tentative".
                    await IpAsync("netns", "exec", ns, "sysctl", "-qw",
                        "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0",
                        "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
                }
            }

            for (int i = 0; i < links.Length; i++)
            {
                await lan.AddLinkAsync(links[i], 77 + i);
            }

            return lan;
        }
        catch
        {
            await lan.DisposeAsync();
            throw;
        }
    }

    /// <summary>Adds the veth link <c>{name}a</c> (10.{subnet}.0.1 in A) – <c>{name}b</c> (10.{subnet}.0.2 in B) and waits until it is up.</summary>
    public async Task AddLinkAsync(string name, int subnet)
    {
        string a = name + "a", b = name + "b";
        await IpAsync("-n", A, "link", "add", a, "type", "veth", "peer", "name", b, "netns", B);
        await IpAsync("-n", A, "addr", "add", $"10.{subnet}.0.1/24", "dev", a);
        await IpAsync("-n", B, "addr", "add", $"10.{subnet}.0.2/24", "dev", b);
        await IpAsync("-n", A, "link", "set", a, "multicast", "on", "up");
        await IpAsync("-n", B, "link", "set", b, "multicast", "on", "up");
        await WaitReadyAsync(A, a);
        await WaitReadyAsync(B, b);
    }

    /// <summary>Removes a link (both ends go).</summary>
    public Task RemoveLinkAsync(string name) => IpAsync("-n", A, "link", "del", name + "a");

    /// <summary>Starts a probe in a namespace and waits until it reports that it started (or failed to).</summary>
    public static Task<MdnsProbe> StartProbeAsync(string ns, params string[] arguments) => MdnsProbe.StartAsync(ns, arguments);

    public async ValueTask DisposeAsync()
    {
        foreach (string ns in _namespaces)
        {
            try
            {
                await IpAsync("netns", "del", ns);
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
            {
                await Console.Error.WriteLineAsync($"Could not delete network namespace {ns}: {ex.Message}");
            }
        }

        _namespaces.Clear();
    }

    private static async Task WaitReadyAsync(string ns, string device)
    {
        // The link is up once both ends are (LOWER_UP); with IPv6 it also needs its link-local address.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            string link = await IpAsync("-n", ns, "-o", "link", "show", "dev", device);
            string addresses = IPv6Available ? await IpAsync("-n", ns, "-o", "-6", "addr", "show", "dev", device, "scope", "link") : "inet6";
            if (link.Contains("LOWER_UP", StringComparison.Ordinal) && addresses.Contains("inet6", StringComparison.Ordinal)
                && !addresses.Contains("tentative", StringComparison.Ordinal))
            {
                return;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"{device} in {ns} did not come up: {link} {addresses}");
            }

            await Task.Delay(20); // polling the kernel's state, with the deadline above
        }
    }

    private static async Task<string> IpAsync(params string[] arguments)
    {
        (int exitCode, string output) = await ExternalProgram.RunAsync("ip", arguments, Environment.CurrentDirectory, CommandTimeout);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed ({exitCode}): {output}");
        }

        return output;
    }
}

/// <summary>The mDNS probe (tests/Ataraxia.Tcp.MdnsProbe) running in a namespace, and every JSON line it wrote.</summary>
internal sealed class MdnsProbe : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<JsonElement> _events = [];
    private readonly StringBuilder _transcript = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _commands;

    private MdnsProbe(Process process, string description)
    {
        _process = process;
        Description = description;
    }

    public string Description { get; }

    /// <summary>Gets the interfaces the probe reported when it started.</summary>
    public JsonElement StartedInterfaces { get; private set; }

    /// <summary>Gets the message of a failed start, or null.</summary>
    public string? StartError { get; private set; }

    /// <summary>Gets the full path of <c>dotnet</c>, or null.</summary>
    public static string? Dotnet =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath : ExternalProgram.FindOnPath("dotnet");

    public static async Task<MdnsProbe> StartAsync(string ns, string[] arguments)
    {
        var startInfo = new ProcessStartInfo("ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])["netns", "exec", ns, Dotnet!, Path.Combine(AppContext.BaseDirectory, "Ataraxia.Tcp.MdnsProbe.dll"), .. arguments])
        {
            startInfo.ArgumentList.Add(argument);
        }

        var probe = new MdnsProbe(new Process { StartInfo = startInfo }, $"probe in {ns} {string.Join(' ', arguments)}");
        probe._process.OutputDataReceived += (_, e) => probe.OnLine(e.Data);
        probe._process.ErrorDataReceived += (_, e) => probe.OnLine(e.Data is null ? null : "stderr: " + e.Data);
        probe._process.Start();
        probe._process.BeginOutputReadLine();
        probe._process.BeginErrorReadLine();
        try
        {
            JsonElement first = await probe.WaitForAsync(e => Event(e) is "started" or "start-failed" or "held");
            if (Event(first) == "started")
            {
                probe.StartedInterfaces = first.GetProperty("interfaces");
            }
            else if (Event(first) == "start-failed")
            {
                probe.StartError = first.GetProperty("error").GetString();
            }
        }
        catch
        {
            await probe.DisposeAsync();
            throw;
        }

        return probe;
    }

    public static string? Event(JsonElement e) => e.GetProperty("event").GetString();

    /// <summary>Gets the index of the named interface from the probe's start report.</summary>
    public int IndexOf(string name) =>
        StartedInterfaces.EnumerateArray().Single(i => i.GetProperty("name").GetString() == name).GetProperty("index").GetInt32();

    /// <summary>Gets the packets received so far.</summary>
    public IReadOnlyList<Received> Packets
    {
        get
        {
            lock (_events)
            {
                return [.. _events.Where(e => Event(e) == "received").Select(Received.From)];
            }
        }
    }

    /// <summary>Gets the log entries of the probe's transport so far.</summary>
    public IReadOnlyList<(string Level, int Id, string Message)> Logs
    {
        get
        {
            lock (_events)
            {
                return [.. _events.Where(e => Event(e) == "log").Select(e =>
                    (e.GetProperty("level").GetString()!, e.GetProperty("id").GetInt32(), e.GetProperty("message").GetString()!))];
            }
        }
    }

    public string Transcript
    {
        get
        {
            lock (_events)
            {
                return _transcript.ToString();
            }
        }
    }

    /// <summary>Multicasts a packet (on one interface and family, or all) and waits until it was handed to the sockets.</summary>
    public Task SendAsync(byte[] packet, int? interfaceIndex = null, AddressFamily? family = null) =>
        CommandAsync($"send {Convert.ToHexString(packet)} {interfaceIndex?.ToString(CultureInfo.InvariantCulture) ?? "-"} {family switch { AddressFamily.InterNetwork => "4", AddressFamily.InterNetworkV6 => "6", _ => "-" }}");

    /// <summary>Sends a packet to one address and waits until it was handed to the socket.</summary>
    public Task SendUnicastAsync(byte[] packet, string address, int port, int interfaceIndex) =>
        CommandAsync(FormattableString.Invariant($"unicast {Convert.ToHexString(packet)} {address} {port} {interfaceIndex}"));

    /// <summary>Waits for a packet with this content (and, optionally, family) and returns it.</summary>
    public async Task<Received> WaitForPacketAsync(byte[] packet, int? family = null)
    {
        string hex = Convert.ToHexString(packet);
        JsonElement e = await WaitForAsync(e => Event(e) == "received" && e.GetProperty("hex").GetString() == hex
            && (family is null || e.GetProperty("family").GetInt32() == family));
        return Received.From(e);
    }

    /// <summary>Waits for a line that matches, among all lines so far and those to come.</summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_events)
            {
                foreach (JsonElement e in _events)
                {
                    if (match(e))
                    {
                        return e;
                    }
                }

                changed = _changed.Task;
            }

            TimeSpan left = TaskTimeoutExtensions.DefaultTimeoutValue - deadline.Elapsed;
            if (TaskTimeoutExtensions.DefaultTimeoutValue != Timeout.InfiniteTimeSpan && left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"The {Description} did not report what the test waits for. Its output:\n{Transcript}");
            }

            try
            {
                await (TaskTimeoutExtensions.DefaultTimeoutValue == Timeout.InfiniteTimeSpan ? changed : changed.WaitAsync(left));
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>Throws when the transport logged an error.</summary>
    public void AssertNoErrors()
    {
        var errors = Logs.Where(l => l.Level is "Error" or "Critical").ToList();
        Assert.True(errors.Count == 0, $"The {Description} logged errors:\n{Transcript}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Closing stdin is the probe's signal to dispose the transport and exit.
            _process.StandardInput.Close();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task CommandAsync(string command)
    {
        int sent = Interlocked.Increment(ref _commands);
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        await WaitForAsync(_ => SentCount() >= sent);
    }

    private int SentCount() => _events.Count(e => Event(e) == "sent");

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        TaskCompletionSource changed;
        lock (_events)
        {
            _transcript.AppendLine(line.Length > 400 ? line[..400] + "…" : line);
            if (line.StartsWith('{'))
            {
                using var document = JsonDocument.Parse(line);
                _events.Add(document.RootElement.Clone());
            }

            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>A packet a probe received.</summary>
    public sealed record Received(string Hex, int Length, string Source, int Port, int InterfaceIndex, int Family)
    {
        public static Received From(JsonElement e) => new(
            e.GetProperty("hex").GetString()!,
            e.GetProperty("length").GetInt32(),
            e.GetProperty("source").GetString()!,
            e.GetProperty("port").GetInt32(),
            e.GetProperty("ifindex").GetInt32(),
            e.GetProperty("family").GetInt32());
    }
}

/// <summary>
/// A fact that runs the mDNS probe in network namespaces: needs Linux, root and <c>ip</c> (iproute2), and
/// <c>dotnet</c> to start the probe; skipped with the reason elsewhere.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class NetworkNamespaceFactAttribute : FactAttribute
{
    public NetworkNamespaceFactAttribute()
    {
        if (SkipReason is { } reason)
        {
            Skip = reason;
        }
    }

    public static string? SkipReason =>
        !OperatingSystem.IsLinux() ? "The mDNS socket tests need Linux network namespaces."
        : !Environment.IsPrivilegedProcess ? "The mDNS socket tests create network namespaces, which needs root."
        : ExternalProgram.FindOnPath("ip") is null ? "The mDNS socket tests need `ip` (iproute2) on PATH to create network namespaces."
        : MdnsProbe.Dotnet is null ? "The mDNS socket tests need `dotnet` to start the probe in a namespace."
        : null;
}
