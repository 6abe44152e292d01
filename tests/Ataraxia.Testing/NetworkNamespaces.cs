using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Xunit;

namespace Ataraxia.Testing;

/// <summary>
/// A private LAN for multi-host tests: <c>N</c> Linux network namespaces (<c>atx-&lt;id&gt;-1</c> …), each with one
/// interface <c>eth0</c> wired by a veth pair to a bridge in a namespace of its own (<c>atx-&lt;id&gt;-sw</c>, the
/// "switch"). Nothing is created in, or attached to, the host's namespace, so multicast a test sends on
/// <c>eth0</c> reaches the other test namespaces and nothing else.
/// </summary>
/// <remarks>
/// <para>
/// Each host gets <c>10.X.Y.i/24</c> (X and Y random per instance), an IPv6 link-local address (IPv6 is
/// enabled and duplicate address detection is off, so it is usable at once), <c>lo</c> up, multicast on, and a
/// route for 224.0.0.0/4 on <c>eth0</c>. The bridge floods multicast (snooping off) and forwards at once
/// (forward delay 0).
/// </para>
/// <para>
/// Needs Linux, root and iproute2; <see cref="NamespaceFactAttribute"/> skips with the reason elsewhere. Disposing
/// kills whatever still runs inside the namespaces and deletes them; it is safe after a partial creation and
/// safe to repeat. An owner file in <c>/run/ataraxia-netns</c> lets a later run delete the namespaces of a test
/// process that died before it could (<see cref="CleanUpStaleAsync"/>, called by <see cref="CreateAsync"/>).
/// </para>
/// </remarks>
public sealed partial class NetworkNamespaces : IAsyncDisposable
{
    /// <summary>The prefix of every namespace these tests create.</summary>
    public const string NamePrefix = "atx-";

    /// <summary>The name of each host's interface on the test LAN.</summary>
    public const string InterfaceName = "eth0";

    /// <summary>The deadline of each <c>ip</c> command.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(15);

    private const string BridgeName = "br0";
    private const string NetnsDirectory = "/run/netns";
    /// <summary>The folder of the owner files: one per instance, named by its <see cref="Id"/>, holding "pid starttime" of the test process.</summary>
    public const string OwnerDirectory = "/run/ataraxia-netns";

    // Namespaces of an owner file-less instance are only taken for stale once this old: the owner file is written
    // before the first namespace, so a younger one may belong to a run that is starting right now.
    private static readonly TimeSpan OrphanAge = TimeSpan.FromMinutes(10);
    private static readonly Lazy<string?> Probe = new(ProbeSkipReason);
    private static readonly SemaphoreSlim CleanUpGate = new(1, 1);

    private readonly List<NamespaceHost> _hosts = [];
    private int _disposed;

    private NetworkNamespaces(string id, byte subnetX, byte subnetY)
    {
        Id = id;
        Subnet = $"10.{subnetX}.{subnetY}";
    }

    /// <summary>Gets why namespace tests cannot run here, or <see langword="null"/> when they can.</summary>
    public static string? SkipReason => Probe.Value;

    /// <summary>Gets the instance id, e.g. <c>atx-1a2b3c4d</c>; every namespace name starts with it.</summary>
    public string Id { get; }

    /// <summary>Gets the namespace holding the bridge.</summary>
    public string SwitchNamespace => Id + "-sw";

    /// <summary>Gets the first three octets of the hosts' IPv4 /24, e.g. <c>10.123.45</c>.</summary>
    public string Subnet { get; }

    /// <summary>Gets the hosts, in order (<c>Hosts[0]</c> is namespace <c>-1</c> with address <c>.1</c>).</summary>
    public IReadOnlyList<NamespaceHost> Hosts => _hosts;

    /// <summary>Creates <paramref name="count"/> namespaces joined by a bridge; first deletes what dead test runs left.</summary>
    /// <param name="count">The number of hosts (1 to 200).</param>
    /// <exception cref="InvalidOperationException">A command failed; everything created so far was deleted.</exception>
    public static async Task<NetworkNamespaces> CreateAsync(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 200);
        if (SkipReason is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        await CleanUpStaleAsync();
        byte[] random = RandomNumberGenerator.GetBytes(6);
        string id = NamePrefix + Convert.ToHexStringLower(random.AsSpan(0, 4));
        var lan = new NetworkNamespaces(id, (byte)(64 + (random[4] % 128)), random[5]);
        try
        {
            await lan.BuildAsync(count);
            return lan;
        }
        catch
        {
            await lan.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Deletes the namespaces of test runs that are gone: those whose owner process no longer runs, and those
    /// without an owner file that are older than ten minutes. Processes still inside them are killed first.
    /// </summary>
    public static async Task CleanUpStaleAsync()
    {
        if (!Directory.Exists(NetnsDirectory))
        {
            return;
        }

        await CleanUpGate.WaitAsync();
        try
        {
            var stale = new SortedSet<string>(StringComparer.Ordinal);
            foreach (string path in Directory.EnumerateFiles(NetnsDirectory, NamePrefix + "*"))
            {
                Match match = NamespaceName().Match(Path.GetFileName(path));
                if (!match.Success)
                {
                    continue;
                }

                string id = match.Groups["id"].Value;
                string owner = Path.Combine(OwnerDirectory, id);
                bool ownerGone = File.Exists(owner)
                    ? !IsAlive(await File.ReadAllTextAsync(owner))
                    : DateTime.UtcNow - File.GetLastWriteTimeUtc(path) > OrphanAge;
                if (ownerGone)
                {
                    stale.Add(Path.GetFileName(path));
                }
            }

            foreach (string name in stale)
            {
                await DeleteNamespaceAsync(name);
            }

            if (Directory.Exists(OwnerDirectory))
            {
                foreach (string owner in Directory.EnumerateFiles(OwnerDirectory, NamePrefix + "*"))
                {
                    string id = Path.GetFileName(owner);
                    if (!Directory.EnumerateFiles(NetnsDirectory, id + "-*").Any() && !IsAlive(await File.ReadAllTextAsync(owner)))
                    {
                        File.Delete(owner);
                    }
                }
            }
        }
        finally
        {
            CleanUpGate.Release();
        }
    }

    /// <summary>Finds a program on PATH, or in /usr/sbin or /sbin (where ip and daemons live, often off a user's PATH).</summary>
    public static string? FindProgram(string name) =>
        ExternalProgram.FindOnPath(name)
        ?? new[] { "/usr/sbin", "/sbin" }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    /// <summary>Runs <c>ip</c> with the given arguments and returns its output; throws when it fails.</summary>
    public static async Task<string> IpAsync(params string[] arguments)
    {
        string ip = FindProgram("ip") ?? throw new InvalidOperationException("ip (iproute2) is not on PATH.");
        (int exitCode, string output) = await ExternalProgram.RunAsync(ip, arguments, "/", CommandTimeout);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed with exit code {exitCode}: {output.Trim()}");
        }

        return output;
    }

    /// <summary>Kills what runs inside the namespaces and deletes them (the veth pairs and the bridge go with them).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Every name this instance created, whether or not creation got to the end; the switch last.
        List<string> names = Directory.Exists(NetnsDirectory)
            ? [.. Directory.EnumerateFiles(NetnsDirectory, Id + "-*").Select(p => Path.GetFileName(p)).OrderBy(n => n == SwitchNamespace)]
            : [];
        List<Exception> failures = [];
        foreach (string name in names)
        {
            try
            {
                await DeleteNamespaceAsync(name);
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
            {
                failures.Add(ex);
            }
        }

        if (failures.Count > 0)
        {
            // The owner file stays, so the next run retries the deletion.
            throw new AggregateException($"Deleting the namespaces of {Id} failed.", failures);
        }

        string owner = Path.Combine(OwnerDirectory, Id);
        if (File.Exists(owner))
        {
            File.Delete(owner);
        }
    }

    private async Task BuildAsync(int count)
    {
        // The owner file first: from now on a later run can tell whether these namespaces are still in use.
        Directory.CreateDirectory(OwnerDirectory);
        await File.WriteAllTextAsync(Path.Combine(OwnerDirectory, Id), OwnerStamp(Environment.ProcessId));

        await IpAsync("netns", "add", SwitchNamespace);
        await IpAsync("-n", SwitchNamespace, "link", "add", BridgeName, "type", "bridge", "forward_delay", "0", "mcast_snooping", "0");
        await IpAsync("-n", SwitchNamespace, "link", "set", BridgeName, "up");
        for (int i = 1; i <= count; i++)
        {
            string name = $"{Id}-{i}";
            string port = $"p{i}";
            await IpAsync("netns", "add", name);

            // Before the interface exists, so it inherits the defaults: IPv6 on, no duplicate address detection
            // (a fresh link-local address is usable at once instead of tentative for a second or two).
            bool ipv6 = await EnableIPv6Async(name);
            await IpAsync("-n", SwitchNamespace, "link", "add", port, "type", "veth", "peer", "name", InterfaceName, "netns", name);
            await IpAsync("-n", SwitchNamespace, "link", "set", port, "master", BridgeName, "up");
            await IpAsync("-n", name, "link", "set", "lo", "up");
            await IpAsync("-n", name, "link", "set", InterfaceName, "multicast", "on", "up");
            var address = IPAddress.Parse($"{Subnet}.{i}");
            await IpAsync("-n", name, "address", "add", $"{address}/24", "dev", InterfaceName);

            // Without a default route, a multicast send on a socket without IP_MULTICAST_IF has no route.
            await IpAsync("-n", name, "route", "add", "224.0.0.0/4", "dev", InterfaceName);
            IPAddress? linkLocal = ipv6 ? await WaitForLinkLocalAsync(name) : null;
            _hosts.Add(new NamespaceHost(this, i, name, address, linkLocal, port));
        }
    }

    private static async Task<bool> EnableIPv6Async(string name)
    {
        // A kernel booted with ipv6.disable=1 has no /proc/sys/net/ipv6: the LAN is then IPv4 only.
        const string Script =
            "[ -d /proc/sys/net/ipv6 ] || exit 3; " +
            "for k in all default; do " +
            "echo 0 > /proc/sys/net/ipv6/conf/$k/disable_ipv6 && echo 0 > /proc/sys/net/ipv6/conf/$k/accept_dad || exit 1; done";
        string output;
        int exitCode;
        string ip = FindProgram("ip")!;
        (exitCode, output) = await ExternalProgram.RunAsync(ip, ["netns", "exec", name, "sh", "-c", Script], "/", CommandTimeout);
        return exitCode switch
        {
            0 => true,
            3 => false,
            _ => throw new InvalidOperationException($"Enabling IPv6 in {name} failed with exit code {exitCode}: {output.Trim()}"),
        };
    }

    private static async Task<IPAddress> WaitForLinkLocalAsync(string name)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            string output = await IpAsync("-n", name, "-6", "-o", "address", "show", "dev", InterfaceName, "scope", "link");
            Match match = LinkLocal().Match(output);
            if (match.Success && !output.Contains("tentative", StringComparison.Ordinal))
            {
                return IPAddress.Parse(match.Groups["address"].Value);
            }

            if (deadline.Elapsed > CommandTimeout)
            {
                throw new InvalidOperationException($"{InterfaceName} in {name} got no usable IPv6 link-local address within {CommandTimeout}: {output.Trim()}");
            }

            // Polling a kernel state that has no event we could await; bounded by the deadline above.
            await Task.Delay(20);
        }
    }

    private static async Task DeleteNamespaceAsync(string name)
    {
        string? ip = FindProgram("ip");
        if (ip is null)
        {
            return;
        }

        (int _, string pids) = await ExternalProgram.RunAsync(ip, ["netns", "pids", name], "/", CommandTimeout);
        foreach (string line in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                KillQuietly(pid);
            }
        }

        (int exitCode, string output) = await ExternalProgram.RunAsync(ip, ["netns", "delete", name], "/", CommandTimeout);
        if (exitCode != 0 && File.Exists(Path.Combine(NetnsDirectory, name)))
        {
            throw new InvalidOperationException($"ip netns delete {name} failed with exit code {exitCode}: {output.Trim()}");
        }
    }

    private static void KillQuietly(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    /// <summary>Identifies a process across pid reuse: its pid and its start time in clock ticks since boot.</summary>
    private static string OwnerStamp(int pid) => $"{pid} {StartTime(pid)}";

    private static bool IsAlive(string stamp)
    {
        string[] parts = stamp.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            && StartTime(pid) is { } started
            && started == parts[1];
    }

    private static string? StartTime(int pid)
    {
        try
        {
            // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces, so count fields after the last ')'.
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[19]; // field 22 of the whole line: starttime
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static string? ProbeSkipReason()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "Multi-host tests need Linux network namespaces (ip netns, veth, bridge).";
        }

        string? uid = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?
            .Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2);
        if (uid != "0")
        {
            return $"Multi-host tests create network namespaces, which needs root; this runs as {Environment.UserName} (uid {uid}).";
        }

        string? ip = FindProgram("ip");
        if (ip is null)
        {
            return "Multi-host tests need ip (Debian package iproute2), which is not on PATH.";
        }

        string probe = $"{NamePrefix}probe-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        try
        {
            string[][] steps =
            [
                ["netns", "add", probe],
                ["-n", probe, "link", "add", "br0", "type", "bridge"],
                ["-n", probe, "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
            ];
            foreach (string[] step in steps)
            {
                (int exitCode, string output) = RunSync(ip, step);
                if (exitCode != 0)
                {
                    return $"Multi-host tests need network namespaces with bridges and veth pairs, but `ip {string.Join(' ', step)}` failed ({exitCode}): {output.Trim()}";
                }
            }

            return null;
        }
        finally
        {
            if (File.Exists(Path.Combine(NetnsDirectory, probe)))
            {
                RunSync(ip, ["netns", "delete", probe]);
            }
        }
    }

    /// <summary>Runs a short command synchronously with a deadline (for the probe, which runs in an attribute's constructor).</summary>
    private static (int ExitCode, string Output) RunSync(string fileName, string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {CommandTimeout}");
        }

        process.WaitForExit();
#pragma warning disable VSTHRD002 // The process has exited; its output is complete and the reads finish at once.
        return (process.ExitCode, stdout.Result + stderr.Result);
#pragma warning restore VSTHRD002
    }

    [GeneratedRegex(@"^(?<id>atx-[0-9a-f]{8})-(sw|[0-9]+)$")]
    private static partial Regex NamespaceName();

    [GeneratedRegex(@"inet6 (?<address>fe80::[0-9a-f:]+)/64")]
    private static partial Regex LinkLocal();
}

/// <summary>One host of a <see cref="NetworkNamespaces"/> LAN: a namespace with <c>eth0</c> on the test bridge.</summary>
public sealed class NamespaceHost
{
    private readonly NetworkNamespaces _lan;

    internal NamespaceHost(NetworkNamespaces lan, int number, string name, IPAddress address, IPAddress? linkLocalAddress, string switchPort)
    {
        _lan = lan;
        Number = number;
        Namespace = name;
        Address = address;
        LinkLocalAddress = linkLocalAddress;
        SwitchPort = switchPort;
    }

    /// <summary>Gets the host's number, from 1 (the last octet of its address and the suffix of its namespace).</summary>
    public int Number { get; }

    /// <summary>Gets the namespace name.</summary>
    public string Namespace { get; }

    /// <summary>Gets the interface on the test LAN (<see cref="NetworkNamespaces.InterfaceName"/>).</summary>
#pragma warning disable CA1822 // Per host in the API, though every host names it the same.
    public string Interface => NetworkNamespaces.InterfaceName;
#pragma warning restore CA1822

    /// <summary>Gets the host's IPv4 address on the test LAN.</summary>
    public IPAddress Address { get; }

    /// <summary>Gets the IPv6 link-local address of <see cref="Interface"/> (without scope), or <see langword="null"/> if the kernel has no IPv6.</summary>
    public IPAddress? LinkLocalAddress { get; }

    /// <summary>Gets the bridge port (in the switch namespace) the host's cable plugs into.</summary>
    public string SwitchPort { get; }

    /// <summary>Runs a program inside the namespace (<c>ip netns exec</c>) to completion, with a deadline.</summary>
    public Task<(int ExitCode, string Output)> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan? timeout = null) =>
        ExternalProgram.RunAsync(Ip, ["netns", "exec", Namespace, fileName, .. arguments], "/", timeout ?? NetworkNamespaces.CommandTimeout);

    /// <summary>Starts a long-running program inside the namespace (<c>ip netns exec</c> execs it, so the process id is the program's).</summary>
    public LineProcess Start(string name, string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null) =>
        LineProcess.Start($"{name} in {Namespace}", Ip, ["netns", "exec", Namespace, fileName, .. arguments], environment);

    /// <summary>Unplugs the host's cable at the switch: its port goes down, so nothing passes in either direction (and no FIN or RST is sent).</summary>
    public Task CutLinkAsync() => NetworkNamespaces.IpAsync("-n", _lan.SwitchNamespace, "link", "set", SwitchPort, "down");

    /// <summary>Plugs the host's cable back in.</summary>
    public Task RestoreLinkAsync() => NetworkNamespaces.IpAsync("-n", _lan.SwitchNamespace, "link", "set", SwitchPort, "up");

    /// <summary>Gets the namespace and address, for messages.</summary>
    public override string ToString() => $"{Namespace} ({Address})";

    private static string Ip => NetworkNamespaces.FindProgram("ip") ?? throw new InvalidOperationException("ip (iproute2) is not on PATH.");
}

/// <summary>A fact that needs network namespaces (Linux, root, iproute2): skipped with the reason elsewhere, run (and able to fail) here.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class NamespaceFactAttribute : FactAttribute
{
    public NamespaceFactAttribute()
    {
        if (NetworkNamespaces.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
