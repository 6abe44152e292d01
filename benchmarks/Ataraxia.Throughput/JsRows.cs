namespace Ataraxia.Throughput;

/// <summary>The JavaScript library on this machine: JS→JS over a plain stream, and JS↔C#.</summary>
public static class JsRows
{
    public static Task RunAsync(RunContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.CompletedTask;
    }
}
