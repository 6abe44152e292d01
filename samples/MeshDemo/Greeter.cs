namespace Ataraxia.MeshDemo;

/// <summary>The service the demo offers on one node and calls from another through a typed proxy.</summary>
public interface IGreeter
{
    Task<Greeting> GreetAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>A greeting, with the node that wrote it.</summary>
public sealed record Greeting(string Text, string From);

internal sealed class Greeter(string nodeName) : IGreeter
{
    public Task<Greeting> GreetAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(new Greeting($"Hello {name}!", nodeName));
}
