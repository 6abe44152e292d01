using System.Diagnostics;
using System.Globalization;
using Ataraxia.Throughput;

// Usage: dotnet run -c Release --project benchmarks/Ataraxia.Throughput -- [scenario ...] [--quick] [--duration S] [--window N] [--only id,id] [--alloc] [--metrics] [--no-save]
// Scenarios: all (default), raw, tcp, rpc, js, mesh. Every selected row is measured in this one run, so the ratios
// compare numbers taken on the same machine at the same time.
if (args is ["--idle-clients", string count, string port, string security])
{
    // The client side of the idle-memory row, in its own process (see MeshRows).
    return await MeshRows.RunIdleClientsAsync(
        int.Parse(count, CultureInfo.InvariantCulture), int.Parse(port, CultureInfo.InvariantCulture), security == "tls");
}

string[] known = ["raw", "tcp", "rpc", "js", "mesh"];
var selected = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
bool quick = false;
bool save = true;
AllocationSampler? sampler = null;
MeterSink? meter = null;
double? duration = null;
int window = 1024;
var only = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--no-save":
            save = false;
            break;
        case "--alloc":
            sampler = new AllocationSampler();
            break;
        case "--metrics":
            meter ??= new MeterSink();
            break;
        case "--quick":
            quick = true;
            break;
        case "--duration" when i + 1 < args.Length:
            duration = double.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--window" when i + 1 < args.Length:
            window = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--only" when i + 1 < args.Length:
            only.UnionWith(args[++i].Split(','));
            break;
        case "all":
            selected.UnionWith(known);
            break;
        default:
            if (!known.Contains(args[i], StringComparer.OrdinalIgnoreCase))
            {
                Console.Error.WriteLine($"Unknown argument {args[i]}; scenarios: all, {string.Join(", ", known)}; options: --quick, --duration S, --window N, --only id[,id], --alloc, --metrics, --no-save.");
                return 2;
            }

            selected.Add(args[i]);
            break;
    }
}

if (selected.Count == 0)
{
    selected.UnionWith(known);
}

var report = new Report();
var context = new RunContext(
    report,
    Duration: TimeSpan.FromSeconds(duration ?? (quick ? 1 : 3)),
    Warmup: TimeSpan.FromSeconds(quick ? 0.3 : 1),
    Window: window,
    RttSamples: quick ? 2000 : 20000,
    Quick: quick)
{
    Only = only,
    Sampler = sampler,
};

Console.Error.WriteLine($"Ataraxia throughput on {Report.Machine}; window {window}, {context.Duration.TotalSeconds:0.#} s per row.");
var total = Stopwatch.StartNew();
if (selected.Contains("raw"))
{
    await RawSocketRows.RunAsync(context);
}

if (selected.Contains("tcp"))
{
    await TcpRows.RunAsync(context);
}

if (selected.Contains("rpc"))
{
    await RpcRows.RunAsync(context);
}

if (selected.Contains("js"))
{
    await JsRows.RunAsync(context);
}

if (selected.Contains("mesh"))
{
    await MeshRows.RunAsync(context);
}

if (meter is not null)
{
    Console.Error.WriteLine($"Ataraxia meter totals: {meter.Summary()}");
    meter.Dispose();
}

report.ComputeRatios();
Targets.Apply(report);
string markdown = report.ToMarkdown();
Console.WriteLine(markdown);

if (!save)
{
    return 0;
}

string results = Path.Combine(FindBenchmarksFolder(), "results");
Directory.CreateDirectory(results);
string json = report.ToJson();
string file = Path.Combine(results, $"throughput-{report.StartedAt:yyyyMMdd-HHmmss}.json");
await File.WriteAllTextAsync(file, json);
await File.WriteAllTextAsync(Path.Combine(results, "latest.json"), json);
await File.WriteAllTextAsync(Path.Combine(results, "latest.md"), markdown);
Console.Error.WriteLine($"Wrote {file} and latest.json/latest.md in {total.Elapsed.TotalSeconds:0} s.");
return 0;

static string FindBenchmarksFolder()
{
    for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Ataraxia.sln")))
        {
            return Path.Combine(dir.FullName, "benchmarks");
        }
    }

    return Path.Combine(Environment.CurrentDirectory, "benchmarks");
}
