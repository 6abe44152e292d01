using System.Text.Json.Nodes;
using Ataraxia.Testing;

namespace Ataraxia.ServicesTests;

/// <summary>
/// One <c>Ataraxia.Services.TestHost</c> process: a TCP node (TLS, 127.0.0.1) offering <c>hang-service</c>, whose
/// state is read from the JSON lines it prints.
/// </summary>
internal sealed class ServiceHostProcess : IAsyncDisposable
{
    public const string ServiceId = "hang-service";

    private ServiceHostProcess(LineProcess process) => Process = process;

    public static string HostPath { get; } = Path.Combine(AppContext.BaseDirectory, "Ataraxia.Services.TestHost.dll");

    public static string DotNet { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host
        ? host
        : ExternalProgram.FindOnPath("dotnet") ?? "dotnet";

    public LineProcess Process { get; }

    /// <summary>Gets the warnings, errors and fatal failures the host reported.</summary>
    public IEnumerable<string> Problems => Events("log", "fatal").Select(e => e.ToJsonString());

    public static ServiceHostProcess Start() =>
        new(LineProcess.Start(
            "services-host",
            DotNet,
            [HostPath, "--bind", "127.0.0.1", "--port", "0", "--secret", TcpServiceNode.Secret, "--name", TcpServiceNode.NetworkName, "--service", ServiceId]));

    /// <summary>Waits until the host joined, listens and offers the service; returns its node id and port.</summary>
    public async Task<(string Id, int Port)> WaitReadyAsync()
    {
        ProcessLine line = await Process.WaitForTextAsync("\"event\":\"ready\"");
        JsonObject ready = JsonNode.Parse(line.Text)!.AsObject();
        return ((string)ready["id"]!, (int)ready["port"]!);
    }

    /// <summary>Waits until the host reports that <paramref name="count"/> calls of <c>hang</c> run at once.</summary>
    public Task WaitForRunningHangsAsync(int count) =>
        Process.WaitForLineAsync(l => Parse(l) is { } e && (string?)e["event"] == "hang" && (int)e["running"]! == count);

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    private static JsonObject? Parse(ProcessLine line) => line.AsJsonObject();

    private IEnumerable<JsonObject> Events(params string[] names) =>
        Process.Lines.Select(Parse).OfType<JsonObject>().Where(e => names.Contains((string?)e["event"]));
}
