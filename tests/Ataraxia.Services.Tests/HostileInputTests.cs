using Ataraxia.Cbor;
using Ataraxia.Internal;
using Ataraxia.Testing;

namespace Ataraxia.ServicesTests;

/// <summary>Services messages of every type with random and mutated contents: dropped with a warning, never a crash or an error.</summary>
public sealed class HostileInputTests
{
    private static readonly string[] Types =
    [
        ServiceMessages.ListRequest, ServiceMessages.ListReply, ServiceMessages.Available, ServiceMessages.Unavailable,
        ServiceMessages.InvokeRequest, ServiceMessages.InvokeReply, ServiceMessages.EventSubscribe, ServiceMessages.EventUnsubscribe,
        ServiceMessages.EventEmit, "at:service:unknown",
    ];

    private static readonly string[] Keys =
    [
        "id", "version", "lastVersion", "services", "def", "service", "method", "arguments", "result", "error", "errorType", "event",
        "methods", "events", "name", "parameters", "returnType", "description", "optional", "rest", "type", "add", "calc",
    ];

    [Fact]
    public async Task Random_and_mutated_service_messages_leave_the_node_working()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(2);
        var implementation = new Calculator();
        using ServiceRegistration registration = mesh[0].Register<ICalculator>("calc", implementation);
        ServiceReference fromPeer = mesh[1].Get("calc");
        await fromPeer.WaitUntilAvailableAsync().DefaultTimeout();
        Network attacker = mesh.Mesh[1];
        var random = new Random(1234);
        CborMap[] valid =
        [
            ServiceMessages.InvokeRequestPayload(1, "calc", "add", [1, 2]),
            ServiceMessages.AvailablePayload(1, registration.Definition),
            ServiceMessages.ListReplyPayload(2, [registration.Definition]),
            ServiceMessages.EventEmitPayload("calc", "moved", [new CborMap { ["x"] = 1 }]),
            ServiceMessages.EventPayload("calc", "moved"),
            ServiceMessages.InvokeErrorPayload(1, "x", "y"),
        ];

        int sent = 0;
        for (int i = 0; i < 1500; i++)
        {
            string type = Types[random.Next(Types.Length)];
            CborValue payload = (i % 3) switch
            {
                0 => RandomValue(random, 0),
                1 => Mutate(random, valid[random.Next(valid.Length)]),
                _ => RandomMap(random, 0),
            };
            await attacker.SendAsync(mesh.Mesh[0].Id, type, payload).DefaultTimeout();
            sent++;
        }

        // Still serving, in both directions, with nothing left hanging.
        Assert.Equal(1500, sent);
        Assert.Equal(3, await fromPeer.As<ICalculator>().AddAsync(1, 2).DefaultTimeout());
        await TaskTimeoutExtensions.WaitUntilAsync(() => mesh[0].Get("calc").IsAvailable);
        Assert.Equal(0, mesh[1].PendingCalls);
        Assert.Contains(mesh.Mesh.Logs.Entries, e => e.EventId.Id == 400);
        Assert.DoesNotContain(mesh.Mesh.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    [Fact]
    public void Definitions_read_from_random_values_fail_only_with_mapping_errors()
    {
        var random = new Random(99);
        for (int i = 0; i < 5000; i++)
        {
            CborValue value = i % 2 == 0 ? RandomMap(random, 0) : Mutate(random, ServiceMessages.AvailablePayload(1, ServiceContract.For(typeof(ICalculator)).CreateDefinition("calc"))["def"].AsMap());
            try
            {
                ServiceDefinition.FromCbor(value);
            }
            catch (Exception ex) when (ex is CborException or InvalidOperationException or KeyNotFoundException)
            {
            }
        }
    }

    [Fact]
    public async Task A_huge_argument_list_is_bound_to_the_parameters_without_trouble()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(2);
        mesh[0].Register<ICalculator>("calc", new Calculator());
        ServiceReference calc = mesh[1].Get("calc");
        await calc.WaitUntilAvailableAsync().DefaultTimeout();

        Assert.Equal(3, await calc.CallAsync<int>("add", [.. Enumerable.Range(1, 100_000).Select(i => (object?)i)], CancellationToken.None).DefaultTimeout());
        Assert.Equal(5050, await calc.CallAsync<int>("sum", [.. Enumerable.Range(1, 100).Select(i => (object?)i)], CancellationToken.None).DefaultTimeout());
    }

    private static CborValue RandomValue(Random random, int depth) => random.Next(depth > 3 ? 8 : 11) switch
    {
        0 => random.Next(-5, 5),
        1 => (long)random.NextInt64(-CborWriter.MaxSafeInteger, CborWriter.MaxSafeInteger),
        2 => random.NextDouble() * 1e6,
        3 => Keys[random.Next(Keys.Length)],
        4 => new CborBytes(new byte[random.Next(4)]),
        5 => CborValue.Null,
        6 => CborValue.Undefined,
        7 => random.Next(2) == 0,
        8 => new CborArray(Enumerable.Range(0, random.Next(4)).Select(_ => RandomValue(random, depth + 1)).ToList()),
        9 => RandomMap(random, depth + 1),
        _ => new CborArray([RandomMap(random, depth + 1)]),
    };

    private static CborMap RandomMap(Random random, int depth)
    {
        var map = new CborMap();
        for (int i = random.Next(6); i > 0; i--)
        {
            map[Keys[random.Next(Keys.Length)]] = RandomValue(random, depth + 1);
        }

        return map;
    }

    /// <summary>Replaces, removes or nests one entry of a valid payload, recursively into maps.</summary>
    private static CborMap Mutate(Random random, CborMap valid)
    {
        var copy = new CborMap();
        foreach ((string key, CborValue value) in valid)
        {
            copy[key] = value;
        }

        string[] keys = [.. copy.Keys];
        string target = keys[random.Next(keys.Length)];
        switch (random.Next(4))
        {
            case 0:
                copy[target] = RandomValue(random, 2);
                break;
            case 1:
                var without = new CborMap();
                foreach ((string key, CborValue value) in copy.Where(e => e.Key != target))
                {
                    without[key] = value;
                }

                return without;
            case 2 when copy[target] is CborMap inner:
                copy[target] = Mutate(random, inner);
                break;
            case 2 when copy[target] is CborArray { Count: > 0 } array && array[0] is CborMap first:
                copy[target] = new CborArray([Mutate(random, first), .. array.Skip(1)]);
                break;
            default:
                copy[Keys[random.Next(Keys.Length)]] = RandomValue(random, 2);
                break;
        }

        return copy;
    }
}
