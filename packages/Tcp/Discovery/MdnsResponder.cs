using System.Net;
using System.Net.Sockets;
using Ataraxia.Tcp.Discovery.Dns;
using Ataraxia.Tcp.Internal;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Tcp.Discovery;

/// <summary>
/// Publishes one DNS-SD instance (RFC 6762/6763): probes its name, announces it, answers queries, defends it,
/// and says goodbye. Runs on the <see cref="MdnsLoop"/>.
/// </summary>
internal sealed class MdnsResponder
{
    public const int MdnsPort = 5353;

    // Legacy unicast answers carry at most this TTL (RFC 6762 §6.7).
    private const uint LegacyTtl = 10;

    private readonly MdnsLoop _loop;
    private readonly IMdnsTransport _transport;
    private readonly ILogger _logger;
    private readonly MdnsTimings _timings;
    private readonly DnsName _serviceType;
    private readonly DnsName _hostName;
    private readonly string _baseLabel;
    private readonly ushort _port;
    private readonly DnsTxtData _txt;
    private readonly uint _hostTtl;
    private readonly uint _otherTtl;
    private readonly Dictionary<(int Interface, AddressFamily Family), List<DnsRecord>> _pending = [];
    private State _state;
    private int _generation;
    private int _suffix = 1;

    public MdnsResponder(MdnsLoop loop, IMdnsTransport transport, ILogger logger, MdnsDiscoveryOptions options, DnsName serviceType, string label, string hostName, int port, bool isTls)
    {
        _loop = loop;
        _transport = transport;
        _logger = logger;
        _timings = options.Timings;
        _serviceType = serviceType;
        _baseLabel = label;
        _hostName = DnsName.FromLabels(hostName, "local");
        _port = (ushort)port;
        _hostTtl = ToTtl(options.HostRecordTtl);
        _otherTtl = ToTtl(options.OtherRecordTtl);
        _txt = DnsTxtData.FromProperties([new("security", isTls ? "tls" : "none"), new("v", "1")]);
        Instance = serviceType.Prepend(label);
    }

    private enum State
    {
        Idle,
        Probing,
        Announced,
        Stopped,
    }

    /// <summary>Gets the DNS-SD service type meta-query name (RFC 6763 §9).</summary>
    public static DnsName ServicesName { get; } = DnsName.FromLabels("_services", "_dns-sd", "_udp", "local");

    /// <summary>Gets the instance name now claimed (it changes after a conflict).</summary>
    public DnsName Instance { get; private set; }

    /// <summary>Gets the first label of <see cref="Instance"/>.</summary>
    public string Label => Instance.GetLabel(0);

    /// <summary>Gets a value indicating whether probing finished and the records are published.</summary>
    public bool IsAnnounced => _state == State.Announced;

    public static uint ToTtl(TimeSpan ttl) => (uint)Math.Ceiling(ttl.TotalSeconds);

    /// <summary>Starts probing.</summary>
    public void Start() => BeginProbing(TimeSpan.Zero);

    /// <summary>Announces again, after the interfaces or their addresses changed.</summary>
    public void OnInterfacesChanged()
    {
        if (_state == State.Announced)
        {
            BeginAnnouncing();
        }
    }

    /// <summary>Sends the goodbye (TTL 0) twice and stops answering.</summary>
    /// <returns>A task that completes after the second goodbye.</returns>
    public async Task SayGoodbyeAsync()
    {
        bool announced = _state == State.Announced;
        _state = State.Stopped;
        _generation++;
        if (!announced)
        {
            return;
        }

        Log.MdnsGoodbye(_logger, Instance);
        await SendGoodbyeAsync().ConfigureAwait(false);
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Schedule(_timings.GoodbyeInterval, async () =>
        {
            try
            {
                await SendGoodbyeAsync().ConfigureAwait(false);
            }
            finally
            {
                second.TrySetResult();
            }
        });

        // Not awaited here (the loop would wait on itself): the caller awaits the task.
        GoodbyeSent = second.Task;
    }

    /// <summary>Gets a task that completes once the last goodbye went out.</summary>
    public Task GoodbyeSent { get; private set; } = Task.CompletedTask;

    /// <summary>Handles a received message.</summary>
    /// <param name="message">The message.</param>
    /// <param name="packet">Where it came from.</param>
    /// <returns>A task that completes when handled.</returns>
    public async Task HandleAsync(DnsMessage message, MdnsPacket packet)
    {
        if (_state is State.Idle or State.Stopped || message.Opcode != 0)
        {
            return;
        }

        if (message.IsResponse)
        {
            if (packet.Source.Port == MdnsPort && HasConflict(message.Answers.Concat(message.Additionals)))
            {
                Rename();
            }

            return;
        }

        if (_state == State.Probing)
        {
            CheckSimultaneousProbe(message);
            return;
        }

        await AnswerAsync(message, packet).ConfigureAwait(false);
    }

    private static int CompareRecordSets(IEnumerable<DnsRecord> left, IEnumerable<DnsRecord> right)
    {
        // RFC 6762 §8.2.1: sorted by class, type and raw rdata, then compared record by record.
        byte[][] a = [.. left.Select(RawRecord).Order(ByteArrayComparer.Instance)];
        byte[][] b = [.. right.Select(RawRecord).Order(ByteArrayComparer.Instance)];
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            int c = ByteArrayComparer.Instance.Compare(a[i], b[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return a.Length.CompareTo(b.Length);
    }

    // Class, type and rdata, uncompressed: the bytes that follow the owner name (minus the TTL).
    private static byte[] RawRecord(DnsRecord record)
    {
        byte[] wire = DnsMessageWriter.ToArray(new DnsMessage { Answers = [record with { Ttl = 0, CacheFlush = false }] }, compressNames: false);
        int start = DnsMessage.HeaderLength + record.Name.WireLength;
        return [.. wire.AsSpan(start + 2, 2), .. wire.AsSpan(start, 2), .. wire.AsSpan(start + 10)];
    }

    private void BeginProbing(TimeSpan extraDelay)
    {
        _state = State.Probing;
        int generation = ++_generation;
        int sent = 0;
        async Task ProbeAsync()
        {
            if (generation != _generation)
            {
                return;
            }

            if (sent == _timings.ProbeCount)
            {
                Log.MdnsAnnouncing(_logger, Instance);
                BeginAnnouncing();
                return;
            }

            sent++;
            var probe = new DnsMessage
            {
                Questions = [new DnsQuestion { Name = Instance, Type = DnsRecordType.Any, UnicastResponse = sent == 1 }],
                Authorities = UniqueRecords(),
            };
            _loop.Schedule(_timings.ProbeInterval, ProbeAsync);
            await SendMulticastAsync(probe, null, null).ConfigureAwait(false);
        }

        _loop.Schedule(extraDelay + MdnsLoop.Random(TimeSpan.Zero, _timings.ProbeDelayMax), ProbeAsync);
    }

    private void BeginAnnouncing()
    {
        _state = State.Announced;
        int generation = ++_generation;
        int index = 0;
        async Task AnnounceAsync()
        {
            if (generation != _generation)
            {
                return;
            }

            index++;
            if (index < _timings.AnnounceDelays.Count)
            {
                _loop.Schedule(_timings.AnnounceDelays[index], AnnounceAsync);
            }

            foreach (MdnsInterface? nic in InterfacesOrAll())
            {
                var announcement = new DnsMessage
                {
                    Flags = DnsFlags.Response | DnsFlags.Authoritative,
                    Answers = [Ptr(_otherTtl), .. UniqueRecords(), .. AddressRecords(nic)],
                };
                await SendMulticastAsync(announcement, nic?.Index, null).ConfigureAwait(false);
            }
        }

        _loop.Schedule(_timings.AnnounceDelays.Count > 0 ? _timings.AnnounceDelays[0] : TimeSpan.Zero, AnnounceAsync);
    }

    private async Task SendGoodbyeAsync()
    {
        foreach (MdnsInterface? nic in InterfacesOrAll())
        {
            var goodbye = new DnsMessage
            {
                Flags = DnsFlags.Response | DnsFlags.Authoritative,
                Answers = [Ptr(0), .. UniqueRecords().Select(r => r with { Ttl = 0 })],
            };
            await SendMulticastAsync(goodbye, nic?.Index, null).ConfigureAwait(false);
        }
    }

    private bool HasConflict(IEnumerable<DnsRecord> records)
    {
        DnsRecord[] ours = UniqueRecords();
        foreach (DnsRecord record in records)
        {
            if (record.Name == Instance && record.Ttl > 0 && record.Type is DnsRecordType.Srv or DnsRecordType.Txt
                && !ours.Any(r => r.Type == record.Type && r.Data.Equals(record.Data)))
            {
                return true;
            }
        }

        return false;
    }

    private void Rename()
    {
        string old = Instance.ToString();
        _suffix++;
        Instance = _serviceType.Prepend($"{_baseLabel} ({_suffix})");
        Log.MdnsConflict(_logger, old, Instance.ToString());
        BeginProbing(TimeSpan.Zero);
    }

    private void CheckSimultaneousProbe(DnsMessage message)
    {
        DnsRecord[] theirs = [.. message.Authorities.Where(r => r.Name == Instance)];
        if (theirs.Length == 0 || !message.Questions.Any(q => q.Name == Instance))
        {
            return;
        }

        // Our own probe comes back identical; the lexicographically later set wins (§8.2).
        if (CompareRecordSets(UniqueRecords(), theirs) < 0)
        {
            Log.MdnsProbeTieLost(_logger, Instance);
            BeginProbing(_timings.ProbeTieBreakDelay);
        }
    }

    private async Task AnswerAsync(DnsMessage query, MdnsPacket packet)
    {
        bool legacy = packet.Source.Port != MdnsPort;
        var unicast = new List<DnsRecord>();
        var multicast = new List<DnsRecord>();
        bool anyShared = false;
        MdnsInterface? nic = _transport.Interfaces.FirstOrDefault(i => i.Index == packet.InterfaceIndex);
        foreach (DnsQuestion question in query.Questions)
        {
            if (question.Class is not (DnsClass.Internet or DnsClass.Any))
            {
                continue;
            }

            foreach ((DnsRecord record, bool shared) in Match(question, nic))
            {
                if (!legacy && IsKnown(query, record))
                {
                    continue;
                }

                List<DnsRecord> target = legacy || question.UnicastResponse ? unicast : multicast;
                if (!target.Contains(record))
                {
                    target.Add(record);
                    anyShared |= shared && target == multicast;
                }
            }
        }

        if (unicast.Count > 0)
        {
            DnsMessage reply = legacy
                ? new DnsMessage
                {
                    Id = query.Id,
                    Flags = DnsFlags.Response | DnsFlags.Authoritative,
                    Questions = query.Questions,
                    Answers = [.. unicast.Select(ForLegacy)],
                    Additionals = [.. Additionals(unicast, nic).Select(ForLegacy)],
                }
                : new DnsMessage
                {
                    Flags = DnsFlags.Response | DnsFlags.Authoritative,
                    Answers = unicast,
                    Additionals = Additionals(unicast, nic),
                };
            await SendAsync(() => _transport.SendUnicastAsync(DnsMessageWriter.ToArray(reply), packet.Source, packet.InterfaceIndex)).ConfigureAwait(false);
        }

        if (multicast.Count == 0)
        {
            return;
        }

        (int, AddressFamily) key = (packet.InterfaceIndex, packet.Family);
        if (_pending.TryGetValue(key, out List<DnsRecord>? pending))
        {
            // An answer to this link is already waiting: this one joins it (§6, aggregation).
            pending.AddRange(multicast.Where(r => !pending.Contains(r)));
            return;
        }

        if (!anyShared && !query.IsTruncated)
        {
            // Only unique records: answer at once (§6).
            await FlushAsync(packet.InterfaceIndex, packet.Family, multicast).ConfigureAwait(false);
            return;
        }

        _pending[key] = multicast;
        TimeSpan delay = query.IsTruncated
            ? MdnsLoop.Random(TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(500))
            : MdnsLoop.Random(_timings.ResponseDelayMin, _timings.ResponseDelayMax);
        _loop.Schedule(delay, async () =>
        {
            if (_pending.Remove(key, out List<DnsRecord>? answers) && _state == State.Announced)
            {
                await FlushAsync(key.Item1, key.Item2, answers).ConfigureAwait(false);
            }
        });
    }

    private Task FlushAsync(int interfaceIndex, AddressFamily family, List<DnsRecord> answers)
    {
        MdnsInterface? nic = _transport.Interfaces.FirstOrDefault(i => i.Index == interfaceIndex);
        var response = new DnsMessage
        {
            Flags = DnsFlags.Response | DnsFlags.Authoritative,
            Answers = answers,
            Additionals = Additionals(answers, nic),
        };
        return SendMulticastAsync(response, interfaceIndex, family);
    }

    private IEnumerable<(DnsRecord Record, bool Shared)> Match(DnsQuestion question, MdnsInterface? nic)
    {
        bool any = question.Type == DnsRecordType.Any;
        if (question.Name == _serviceType && (any || question.Type == DnsRecordType.Ptr))
        {
            yield return (Ptr(_otherTtl), true);
        }

        if (question.Name == ServicesName && (any || question.Type == DnsRecordType.Ptr))
        {
            yield return (new DnsRecord { Name = ServicesName, Ttl = _otherTtl, Data = new DnsPtrData(_serviceType) }, true);
        }

        if (question.Name == Instance)
        {
            foreach (DnsRecord record in UniqueRecords())
            {
                if (any || question.Type == record.Type)
                {
                    yield return (record, false);
                }
            }
        }

        if (question.Name == _hostName)
        {
            foreach (DnsRecord record in AddressRecords(nic))
            {
                if (any || question.Type == record.Type)
                {
                    yield return (record, false);
                }
            }
        }
    }

    // Known-answer suppression (§7.1): the querier already holds the record with at least half our TTL.
    private static bool IsKnown(DnsMessage query, DnsRecord record) =>
        query.Answers.Any(known => known.Name == record.Name && known.Data.Equals(record.Data) && known.Ttl >= record.Ttl / 2.0);

    private DnsRecord[] Additionals(List<DnsRecord> answers, MdnsInterface? nic)
    {
        // RFC 6763 §12: a PTR answer brings SRV, TXT and addresses; an SRV answer brings addresses.
        var additionals = new List<DnsRecord>();
        bool ptr = answers.Any(r => r.Type == DnsRecordType.Ptr && r.Name == _serviceType);
        bool srv = ptr || answers.Any(r => r.Type == DnsRecordType.Srv);
        if (ptr)
        {
            additionals.AddRange(UniqueRecords());
        }

        if (srv)
        {
            additionals.AddRange(AddressRecords(nic));
        }

        return [.. additionals.Where(r => !answers.Contains(r))];
    }

    private static DnsRecord ForLegacy(DnsRecord record) => record with { Ttl = Math.Min(record.Ttl, LegacyTtl), CacheFlush = false };

    private DnsRecord Ptr(uint ttl) => new() { Name = _serviceType, Ttl = ttl, Data = new DnsPtrData(Instance) };

    private DnsRecord[] UniqueRecords() =>
    [
        new DnsRecord { Name = Instance, CacheFlush = true, Ttl = _hostTtl, Data = new DnsSrvData(0, 0, _port, _hostName) },
        new DnsRecord { Name = Instance, CacheFlush = true, Ttl = _otherTtl, Data = _txt },
    ];

    private IEnumerable<DnsRecord> AddressRecords(MdnsInterface? nic)
    {
        IEnumerable<IPAddress> addresses = nic?.Addresses ?? _transport.Interfaces.SelectMany(i => i.Addresses);
        return addresses
            .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            .Select(a => new IPAddress(a.GetAddressBytes())) // without the scope id
            .Distinct()
            .Select(a => new DnsRecord { Name = _hostName, CacheFlush = true, Ttl = _hostTtl, Data = new DnsAddressData(a) });
    }

    private IEnumerable<MdnsInterface?> InterfacesOrAll()
    {
        IReadOnlyList<MdnsInterface> interfaces = _transport.Interfaces;
        if (interfaces.Count == 0)
        {
            return [null];
        }

        return interfaces;
    }

    private Task SendMulticastAsync(DnsMessage message, int? interfaceIndex, AddressFamily? family) =>
        SendAsync(() => _transport.SendMulticastAsync(DnsMessageWriter.ToArray(message), interfaceIndex, family));

    private async Task SendAsync(Func<ValueTask> send)
    {
        try
        {
            await send().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.MdnsStepFailed(_logger, "a send", ex);
        }
    }

    private sealed class ByteArrayComparer : IComparer<byte[]>
    {
        public static ByteArrayComparer Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
