using System.Globalization;
using System.Net;
using System.Text;
using Ataraxia.Testing;

namespace Ataraxia.Tcp.Tests.MultiHost;

/// <summary>
/// A private avahi (a third-party mDNS responder) inside one test namespace: its own D-Bus system bus and its own
/// avahi-daemon, restricted to the namespace's <c>eth0</c>; plus <c>avahi-publish</c> and <c>avahi-browse</c>
/// talking to that daemon.
/// </summary>
/// <remarks>
/// <para>The recipe, since namespaces share the file system with the host and with each other:</para>
/// <list type="number">
/// <item><c>dbus-daemon --config-file=DIR/dbus.conf --nofork --nopidfile --print-address=1</c>, with a config
/// of type <c>system</c> listening on <c>unix:path=DIR/bus.sock</c> (not the host's /run/dbus) and allowing
/// everything (only root, in this test, connects).</item>
/// <item><c>avahi-daemon --no-chroot --no-drop-root --no-rlimits -f DIR/avahi-daemon.conf</c> with
/// <c>DBUS_SYSTEM_BUS_ADDRESS=unix:path=DIR/bus.sock</c>, started as <c>sh -c 'mount -t tmpfs tmpfs /run &amp;&amp;
/// mkdir /run/avahi-daemon &amp;&amp; exec avahi-daemon …'</c>: <c>ip netns exec</c> gives each command a mount
/// namespace of its own whose mounts do not propagate back, so the daemon's fixed pid file and socket
/// (/run/avahi-daemon/) are private to it and never clash with the host's avahi or another test's. The
/// config sets <c>allow-interfaces=eth0</c>, its own host name, no wide-area, no workstation or HINFO
/// records and no reflector.</item>
/// <item><c>avahi-publish</c> and <c>avahi-browse</c> with the same <c>DBUS_SYSTEM_BUS_ADDRESS</c>; they reach
/// the daemon over D-Bus only.</item>
/// </list>
/// <para>Disposing kills the clients, the daemon and the bus, and deletes the folder.</para>
/// </remarks>
internal sealed class AvahiDaemon : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly List<LineProcess> _processes = [];
    private readonly DirectoryInfo _directory;

    private AvahiDaemon(NamespaceHost host, DirectoryInfo directory)
    {
        Host = host;
        _directory = directory;
        HostName = $"{host.Namespace}-avahi";
        Environment = new Dictionary<string, string?> { ["DBUS_SYSTEM_BUS_ADDRESS"] = $"unix:path={BusSocket}" };
    }

    /// <summary>Gets why avahi tests cannot run here, or <see langword="null"/> when they can.</summary>
    public static string? SkipReason =>
        NetworkNamespaces.SkipReason
        ?? (Missing() is { Length: > 0 } missing
            ? $"avahi is not installed ({missing} not on PATH); install the Debian packages avahi-daemon avahi-utils dbus (.ci/run does)."
            : null);

    /// <summary>Gets the namespace avahi runs in.</summary>
    public NamespaceHost Host { get; }

    /// <summary>Gets the host name the daemon publishes (without <c>.local</c>).</summary>
    public string HostName { get; }

    /// <summary>Gets the environment that points avahi's D-Bus clients at this daemon's bus.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; }

    private string BusSocket => Path.Combine(_directory.FullName, "bus.sock");

    /// <summary>Starts a bus and a daemon in <paramref name="host"/>'s namespace and waits until the daemon is up.</summary>
    public static async Task<AvahiDaemon> StartAsync(NamespaceHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var avahi = new AvahiDaemon(host, Directory.CreateTempSubdirectory("atx-avahi-"));
        try
        {
            await avahi.StartCoreAsync();
            return avahi;
        }
        catch
        {
            await avahi.DisposeAsync();
            throw;
        }
    }

    /// <summary>Publishes a service with <c>avahi-publish -s</c> and waits until avahi established it.</summary>
    /// <param name="name">The instance name.</param>
    /// <param name="type">The service type, e.g. <c>_atxtest._tcp</c>.</param>
    /// <param name="port">The port in the SRV record.</param>
    /// <param name="txt">TXT strings, e.g. <c>key=value</c>.</param>
    /// <returns>The running <c>avahi-publish</c>; the service stays published until it is disposed (or this daemon is).</returns>
    public async Task<LineProcess> PublishAsync(string name, string type, int port, params string[] txt)
    {
        LineProcess publish = Start("avahi-publish", ["-s", name, type, port.ToString(CultureInfo.InvariantCulture), .. txt]);
        await publish.WaitForTextAsync($"Established under name '{name}'", StartTimeout);
        return publish;
    }

    /// <summary>Starts <c>avahi-browse -rp TYPE</c>, which reports (and resolves) services of the type until disposed.</summary>
    public LineProcess Browse(string type) => Start("avahi-browse", ["-r", "-p", type]);

    /// <summary>Resolves a host name to one address with <c>avahi-resolve -n</c> (<c>-4</c> or <c>-6</c>).</summary>
    public async Task<IPAddress> ResolveHostAsync(string hostName, bool ipv6)
    {
        await using LineProcess resolve = Start("avahi-resolve", [ipv6 ? "-6" : "-4", "-n", hostName]);
        ProcessLine line = await resolve.WaitForLineAsync(l => !l.IsError && l.Text.StartsWith(hostName + "\t", StringComparison.Ordinal));
        return IPAddress.Parse(line.Text[(hostName.Length + 1)..].Trim());
    }

    /// <summary>Waits until a browser resolved a service instance that matches <paramref name="predicate"/>.</summary>
    public static async Task<AvahiService> WaitForServiceAsync(LineProcess browse, Func<AvahiService, bool> predicate, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(browse);
        ProcessLine line = await browse.WaitForLineAsync(l => !l.IsError && AvahiService.TryParse(l.Text, out AvahiService? s) && predicate(s), timeout);
        return AvahiService.TryParse(line.Text, out AvahiService? service) ? service : throw new InvalidOperationException(line.Text);
    }

    /// <summary>Starts an avahi client (or any program) in the namespace with <see cref="Environment"/>; it is killed with the daemon.</summary>
    public LineProcess Start(string program, IEnumerable<string> arguments)
    {
        LineProcess process = Host.Start(Path.GetFileName(program), program, arguments, Environment);
        lock (_processes)
        {
            _processes.Add(process);
        }

        return process;
    }

    /// <summary>Kills the clients, then the daemon, then the bus, and deletes the folder.</summary>
    public async ValueTask DisposeAsync()
    {
        List<LineProcess> processes;
        lock (_processes)
        {
            processes = [.. _processes];
            _processes.Clear();
        }

        processes.Reverse();
        foreach (LineProcess process in processes)
        {
            await process.DisposeAsync();
        }

        _directory.Delete(recursive: true);
    }

    private static string Missing() =>
        string.Join(", ", new[] { "avahi-daemon", "avahi-publish", "avahi-browse", "avahi-resolve", "dbus-daemon" }.Where(p => NetworkNamespaces.FindProgram(p) is null));

    private async Task StartCoreAsync()
    {
        string dbusConfig = Path.Combine(_directory.FullName, "dbus.conf");
        string avahiConfig = Path.Combine(_directory.FullName, "avahi-daemon.conf");
        await File.WriteAllTextAsync(dbusConfig, $"""
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
              "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>system</type>
              <listen>unix:path={BusSocket}</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow user="*"/>
                <allow own="*"/>
                <allow send_destination="*" eavesdrop="true"/>
                <allow receive_sender="*"/>
              </policy>
            </busconfig>
            """);
        await File.WriteAllTextAsync(avahiConfig, $"""
            [server]
            host-name={HostName}
            use-ipv4=yes
            use-ipv6=yes
            allow-interfaces={Host.Interface}
            enable-dbus=yes

            [wide-area]
            enable-wide-area=no

            [publish]
            publish-workstation=no
            publish-hinfo=no

            [reflector]
            enable-reflector=no
            """);

        LineProcess bus = Start(NetworkNamespaces.FindProgram("dbus-daemon")!, [$"--config-file={dbusConfig}", "--nofork", "--nopidfile", "--print-address=1"]);
        await bus.WaitForLineAsync(l => !l.IsError && l.Text.StartsWith("unix:path=", StringComparison.Ordinal), StartTimeout);

        string daemon = NetworkNamespaces.FindProgram("avahi-daemon")!;
        string script = $"mount -t tmpfs tmpfs /run && mkdir -p /run/avahi-daemon && exec '{daemon}' --no-chroot --no-drop-root --no-rlimits -f '{avahiConfig}'";
        LineProcess avahi = Start("/bin/sh", ["-c", script]);
        await avahi.WaitForTextAsync("Server startup complete.", StartTimeout);
    }
}

/// <summary>One resolved service, as <c>avahi-browse -p</c> reports it (a line starting with <c>=</c>).</summary>
/// <param name="Interface">The interface it was found on.</param>
/// <param name="Protocol"><c>IPv4</c> or <c>IPv6</c>.</param>
/// <param name="Name">The instance name (unescaped).</param>
/// <param name="Type">The service type.</param>
/// <param name="Domain">The domain, <c>local</c>.</param>
/// <param name="HostName">The SRV target.</param>
/// <param name="Address">The address the host name resolved to.</param>
/// <param name="Port">The SRV port.</param>
/// <param name="Txt">The TXT strings.</param>
internal sealed record AvahiService(string Interface, string Protocol, string Name, string Type, string Domain, string HostName, IPAddress Address, int Port, IReadOnlyList<string> Txt)
{
    /// <summary>Parses a resolved line: <c>=;eth0;IPv4;name;_type._tcp;local;host.local;10.1.2.3;4242;"a=b" "c=d"</c>.</summary>
    public static bool TryParse(string line, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out AvahiService? service)
    {
        service = null;
        string[] fields = line.Split(';', 10);
        if (fields.Length != 10 || fields[0] != "="
            || !IPAddress.TryParse(fields[7], out IPAddress? address)
            || !int.TryParse(fields[8], NumberStyles.None, CultureInfo.InvariantCulture, out int port))
        {
            return false;
        }

        service = new AvahiService(fields[1], fields[2], Unescape(fields[3]), fields[4], fields[5], fields[6], address, port, ParseTxt(fields[9]));
        return true;
    }

    /// <summary>Undoes avahi-browse's escaping of names: <c>\DDD</c> (decimal byte) and <c>\c</c>.</summary>
    private static string Unescape(string text)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 3 < text.Length && char.IsAsciiDigit(text[i + 1]) && char.IsAsciiDigit(text[i + 2]) && char.IsAsciiDigit(text[i + 3]))
            {
                bytes.Add((byte)int.Parse(text.AsSpan(i + 1, 3), NumberStyles.None, CultureInfo.InvariantCulture));
                i += 3;
            }
            else if (text[i] == '\\' && i + 1 < text.Length)
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(text[++i].ToString()));
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(text[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>Splits <c>"a=b" "c=d"</c> into its strings.</summary>
    private static List<string> ParseTxt(string text)
    {
        List<string> strings = [];
        int i = 0;
        while ((i = text.IndexOf('"', i)) >= 0)
        {
            int end = text.IndexOf('"', i + 1);
            if (end < 0)
            {
                break;
            }

            strings.Add(text[(i + 1)..end]);
            i = end + 1;
        }

        return strings;
    }
}

/// <summary>A fact that needs network namespaces and avahi: skipped with the reason elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class AvahiFactAttribute : FactAttribute
{
    public AvahiFactAttribute()
    {
        if (AvahiDaemon.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
