using System.Net;
using System.Net.Sockets;
using System.Text;
using Ataraxia.Tcp.Discovery.Dns;
using Ataraxia.Tcp.Internal;
using Microsoft.Extensions.Logging;

namespace Ataraxia.Tcp.Discovery;

/// <summary>A resolved DNS-SD instance: PTR, SRV and at least one address.</summary>
/// <param name="Instance">The instance name.</param>
/// <param name="Port">The SRV port.</param>
/// <param name="Addresses">The target's addresses with the interface each was seen on (link-local IPv6 ones scoped to it).</param>
/// <param name="HasTxt">Whether a TXT record was seen.</param>
/// <param name="Security">The TXT <c>security</c> attribute, if any.</param>
/// <param name="Interface">The interface the PTR was seen on.</param>
internal sealed record MdnsService(DnsName Instance, int Port, IReadOnlyList<(IPAddress Address, int Interface)> Addresses, bool HasTxt, string? Security, int Interface)
{
    public bool SameAs(MdnsService other) =>
        Port == other.Port && HasTxt == other.HasTxt && Security == other.Security && Addresses.SequenceEqual(other.Addresses);
}

/// <summary>
/// Browses one service type (RFC 6762 §5.2): queries with back-off and known answers, caches responses with
/// their TTLs and cache-flush semantics, refreshes records before they expire, and reports instances as they
/// resolve, change and go. Runs on the <see cref="MdnsLoop"/>.
/// </summary>
internal sealed class MdnsBrowser
{
    // A bound against floods of records: beyond it new records are dropped until old ones expire.
    private const int MaxCacheEntries = 4096;

    private static readonly double[] RefreshPoints = [0.80, 0.85, 0.90, 0.95];

    private readonly MdnsLoop _loop;
    private readonly IMdnsTransport _transport;
    private readonly ILogger _logger;
    private readonly MdnsTimings _timings;
    private readonly DnsName _serviceType;
    private readonly Func<string, bool> _isSelf;
    private readonly Action<MdnsService?, MdnsService?> _changed;
    private readonly Dictionary<CacheKey, CacheEntry> _cache = [];
    private readonly Dictionary<DnsName, MdnsService> _services = [];
    private readonly Dictionary<DnsName, TimeSpan> _resolveQueries = [];
    private MdnsLoop.Timer? _queryTimer;
    private MdnsLoop.Timer? _cacheTimer;
    private TimeSpan _cacheTimerDue = TimeSpan.MaxValue;
    private TimeSpan _queryInterval;
    private bool _stopped;

    // changed is called with (old, new): (null, s) found, (s, s') changed, (s, null) lost.
    public MdnsBrowser(MdnsLoop loop, IMdnsTransport transport, ILogger logger, MdnsTimings timings, DnsName serviceType, Func<string, bool> isSelf, Action<MdnsService?, MdnsService?> changed)
    {
        _loop = loop;
        _transport = transport;
        _logger = logger;
        _timings = timings;
        _serviceType = serviceType;
        _isSelf = isSelf;
        _changed = changed;
    }

    /// <summary>Gets the number of cached records (for tests).</summary>
    public int CacheCount => _cache.Count;

    /// <summary>Starts querying: the first query after 20–120 ms (§5.2).</summary>
    public void Start() => RestartQueries(MdnsLoop.Random(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(120)));

    /// <summary>Queries again from the start of the back-off, after the interfaces changed.</summary>
    public void OnInterfacesChanged() => RestartQueries(MdnsLoop.Random(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(120)));

    /// <summary>Stops querying.</summary>
    public void Stop()
    {
        _stopped = true;
        _queryTimer?.Cancel();
        _cacheTimer?.Cancel();
    }

    /// <summary>Handles a received message.</summary>
    /// <param name="message">The message.</param>
    /// <param name="packet">Where it came from.</param>
    /// <returns>A task that completes when handled.</returns>
    public async Task HandleAsync(DnsMessage message, MdnsPacket packet)
    {
        // Only responses from port 5353 are mDNS responses (§11); queries hold nothing we must cache.
        if (_stopped || !message.IsResponse || message.Opcode != 0 || packet.Source.Port != MdnsResponder.MdnsPort)
        {
            return;
        }

        TimeSpan now = _loop.Now;
        foreach (DnsRecord record in message.Answers.Concat(message.Additionals))
        {
            if (record.Class != DnsClass.Internet || !IsRelevant(record))
            {
                continue;
            }

            Cache(record, packet.InterfaceIndex, now);
        }

        await ReconcileAsync().ConfigureAwait(false);
    }

    private bool IsRelevant(DnsRecord record) => record.Type switch
    {
        DnsRecordType.Ptr => record.Name == _serviceType,
        DnsRecordType.Srv or DnsRecordType.Txt => IsInstance(record.Name),
        DnsRecordType.A or DnsRecordType.Aaaa => true,
        _ => false,
    };

    private bool IsInstance(DnsName name) => name.LabelCount == _serviceType.LabelCount + 1 && name.Skip(1) == _serviceType;

    private void Cache(DnsRecord record, int interfaceIndex, TimeSpan now)
    {
        var key = new CacheKey(record with { Ttl = 0, CacheFlush = false }, interfaceIndex);
        if (record.CacheFlush)
        {
            // §10.2: other records of this name and type received over a second ago are flushed (kept one more second).
            foreach ((CacheKey other, CacheEntry entry) in _cache)
            {
                if (other.Interface == interfaceIndex && other.Record.Type == record.Type && other.Record.Name == record.Name
                    && !other.Equals(key) && now - entry.Received > _timings.ExpiryGrace)
                {
                    entry.Expire(now + _timings.ExpiryGrace);
                }
            }
        }

        if (record.Ttl == 0)
        {
            // §10.1: a goodbye leaves the record one more second.
            if (_cache.TryGetValue(key, out CacheEntry? existing))
            {
                existing.Expire(now + _timings.ExpiryGrace);
            }
        }
        else if (_cache.TryGetValue(key, out CacheEntry? existing))
        {
            existing.Refresh(now, TimeSpan.FromSeconds(record.Ttl));
        }
        else if (_cache.Count < MaxCacheEntries)
        {
            _cache[key] = new CacheEntry(now, TimeSpan.FromSeconds(record.Ttl));
        }

        ScheduleCacheTimer();
    }

    private void RestartQueries(TimeSpan delay)
    {
        if (_stopped)
        {
            return;
        }

        _queryTimer?.Cancel();
        _queryInterval = TimeSpan.Zero;
        _queryTimer = _loop.Schedule(delay, QueryAsync);
    }

    private async Task QueryAsync()
    {
        if (_stopped)
        {
            return;
        }

        _queryInterval = _queryInterval == TimeSpan.Zero
            ? _timings.QueryInitialInterval
            : TimeSpan.FromTicks(Math.Min(_queryInterval.Ticks * 2, _timings.QueryMaxInterval.Ticks));
        _queryTimer = _loop.Schedule(_queryInterval, QueryAsync);
        await SendQueryAsync([new DnsQuestion { Name = _serviceType, Type = DnsRecordType.Ptr }]).ConfigureAwait(false);
    }

    private async Task SendQueryAsync(IReadOnlyList<DnsQuestion> questions)
    {
        TimeSpan now = _loop.Now;

        // §7.1: list the answers we hold with more than half their TTL left.
        DnsRecord[] known = [.. _cache
            .Where(c => c.Value.Remaining(now) > c.Value.Ttl / 2
                && questions.Any(q => q.Name == c.Key.Record.Name && (q.Type == DnsRecordType.Any || q.Type == c.Key.Record.Type)))
            .Select(c => c.Key.Record with { Ttl = (uint)c.Value.Remaining(now).TotalSeconds })
            .Distinct()];
        var query = new DnsMessage { Questions = questions, Answers = known };
        try
        {
            await _transport.SendMulticastAsync(DnsMessageWriter.ToArray(query)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.MdnsStepFailed(_logger, "a query", ex);
        }
    }

    private void ScheduleCacheTimer()
    {
        if (_stopped)
        {
            return;
        }

        TimeSpan due = TimeSpan.MaxValue;
        foreach (CacheEntry entry in _cache.Values)
        {
            TimeSpan next = entry.NextEvent;
            if (next < due)
            {
                due = next;
            }
        }

        if (due == _cacheTimerDue && _cacheTimer is { IsCancelled: false })
        {
            return;
        }

        _cacheTimer?.Cancel();
        _cacheTimerDue = due;
        _cacheTimer = due == TimeSpan.MaxValue ? null : _loop.Schedule(due - _loop.Now, OnCacheTimerAsync);
    }

    private async Task OnCacheTimerAsync()
    {
        _cacheTimer = null;
        _cacheTimerDue = TimeSpan.MaxValue;
        TimeSpan now = _loop.Now;
        var questions = new List<DnsQuestion>();
        foreach ((CacheKey key, CacheEntry entry) in _cache.ToList())
        {
            if (entry.Expires <= now)
            {
                _cache.Remove(key);
                continue;
            }

            if (entry.RefreshDue is { } refresh && refresh <= now)
            {
                entry.NextRefresh();
                if (IsOfInterest(key.Record) && !questions.Any(q => q.Name == key.Record.Name && q.Type == key.Record.Type))
                {
                    questions.Add(new DnsQuestion { Name = key.Record.Name, Type = key.Record.Type });
                }
            }
        }

        ScheduleCacheTimer();
        if (questions.Count > 0)
        {
            await SendQueryAsync(questions).ConfigureAwait(false);
        }

        await ReconcileAsync().ConfigureAwait(false);
    }

    private bool IsOfInterest(DnsRecord record) => record.Type switch
    {
        DnsRecordType.Ptr => true,
        DnsRecordType.Srv or DnsRecordType.Txt => _cache.Keys.Any(k => k.Record.Data is DnsPtrData ptr && ptr.Target == record.Name),
        _ => _cache.Keys.Any(k => k.Record.Data is DnsSrvData srv && srv.Target == record.Name),
    };

    private async Task ReconcileAsync()
    {
        TimeSpan now = _loop.Now;
        var current = new Dictionary<DnsName, MdnsService>();
        var questions = new List<DnsQuestion>();
        foreach ((CacheKey key, CacheEntry entry) in _cache)
        {
            if (key.Record.Data is not DnsPtrData ptr || entry.Expires <= now || !IsInstance(ptr.Target) || current.ContainsKey(ptr.Target))
            {
                continue;
            }

            DnsName instance = ptr.Target;
            if (_isSelf(instance.GetLabel(0)))
            {
                continue;
            }

            MdnsService? service = Resolve(instance, key.Interface, now, out DnsName? missingTarget);
            if (service is not null)
            {
                current[instance] = service;
            }
            else if (!_resolveQueries.TryGetValue(instance, out TimeSpan last) || now - last >= _timings.ResolveRetryInterval)
            {
                _resolveQueries[instance] = now;
                if (missingTarget is { } target)
                {
                    questions.Add(new DnsQuestion { Name = target, Type = DnsRecordType.A });
                    questions.Add(new DnsQuestion { Name = target, Type = DnsRecordType.Aaaa });
                }
                else
                {
                    questions.Add(new DnsQuestion { Name = instance, Type = DnsRecordType.Srv });
                    questions.Add(new DnsQuestion { Name = instance, Type = DnsRecordType.Txt });
                }
            }
        }

        foreach ((DnsName instance, MdnsService old) in _services.ToList())
        {
            if (!current.ContainsKey(instance))
            {
                _services.Remove(instance);
                _changed(old, null);
            }
        }

        foreach ((DnsName instance, MdnsService service) in current)
        {
            _resolveQueries.Remove(instance);
            if (!_services.TryGetValue(instance, out MdnsService? old))
            {
                _services[instance] = service;
                _changed(null, service);
            }
            else if (!old.SameAs(service))
            {
                _services[instance] = service;
                _changed(old, service);
            }
        }

        foreach (DnsName gone in _resolveQueries.Keys.Where(i => !_cache.Keys.Any(k => k.Record.Data is DnsPtrData p && p.Target == i)).ToList())
        {
            _resolveQueries.Remove(gone);
        }

        if (questions.Count > 0)
        {
            await SendQueryAsync(questions).ConfigureAwait(false);
        }
    }

    private MdnsService? Resolve(DnsName instance, int ptrInterface, TimeSpan now, out DnsName? missingTarget)
    {
        missingTarget = null;
        (CacheKey Key, CacheEntry Entry)[] live = [.. _cache.Where(c => c.Value.Expires > now && c.Key.Record.Name == instance).Select(c => (c.Key, c.Value))];

        // The most recently received SRV, preferring the PTR's interface.
        (CacheKey Key, CacheEntry Entry)? srvEntry = live
            .Where(c => c.Key.Record.Data is DnsSrvData)
            .OrderBy(c => c.Key.Interface == ptrInterface ? 0 : 1)
            .ThenByDescending(c => c.Entry.Received)
            .Select(c => ((CacheKey, CacheEntry)?)c)
            .FirstOrDefault();
        if (srvEntry is not { } found)
        {
            return null;
        }

        var srv = (DnsSrvData)found.Key.Record.Data;
        DnsTxtData? txt = live.Where(c => c.Key.Record.Data is DnsTxtData).OrderByDescending(c => c.Entry.Received)
            .Select(c => (DnsTxtData)c.Key.Record.Data).FirstOrDefault();
        (IPAddress, int)[] addresses = [.. _cache
            .Where(c => c.Value.Expires > now && c.Key.Record.Name == srv.Target && c.Key.Record.Data is DnsAddressData)
            .Select(c => (Scoped(((DnsAddressData)c.Key.Record.Data).Address, c.Key.Interface), c.Key.Interface))
            .Distinct()
            .OrderBy(a => a.Item2 == ptrInterface ? 0 : 1)
            .ThenBy(a => Rank(a.Item1))
            .ThenBy(a => a.Item1.ToString(), StringComparer.Ordinal)];
        if (addresses.Length == 0)
        {
            missingTarget = srv.Target;
            return null;
        }

        string? security = null;
        if (txt is not null && txt.GetProperties().TryGetValue("security", out ReadOnlyMemory<byte>? value) && value is { } bytes)
        {
            security = Encoding.UTF8.GetString(bytes.Span);
        }

        return new MdnsService(instance, srv.Port, addresses, txt is not null, security, ptrInterface);
    }

    // IPv4 first, then routable IPv6, then link-local IPv6.
    private static int Rank(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork ? 0 : address.IsIPv6LinkLocal ? 2 : 1;

    private static IPAddress Scoped(IPAddress address, int interfaceIndex) =>
        address.IsIPv6LinkLocal ? new IPAddress(address.GetAddressBytes(), interfaceIndex) : address;

    private readonly record struct CacheKey(DnsRecord Record, int Interface);

    private sealed class CacheEntry(TimeSpan received, TimeSpan ttl)
    {
        private int _refreshStage;

        public TimeSpan Received { get; private set; } = received;

        public TimeSpan Ttl { get; private set; } = ttl;

        public TimeSpan Expires { get; private set; } = received + ttl;

        public TimeSpan? RefreshDue => _refreshStage < RefreshPoints.Length && Expires == Received + Ttl
            ? Received + (Ttl * RefreshPoints[_refreshStage])
            : null;

        public TimeSpan NextEvent => RefreshDue is { } refresh && refresh < Expires ? refresh : Expires;

        public TimeSpan Remaining(TimeSpan now) => Expires > now ? Expires - now : TimeSpan.Zero;

        public void Refresh(TimeSpan now, TimeSpan ttl)
        {
            Received = now;
            Ttl = ttl;
            Expires = now + ttl;
            _refreshStage = 0;
        }

        public void Expire(TimeSpan at)
        {
            if (at < Expires)
            {
                Expires = at;
            }
        }

        public void NextRefresh() => _refreshStage++;
    }
}
