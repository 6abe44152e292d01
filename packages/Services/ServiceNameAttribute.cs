namespace Ataraxia;

/// <summary>
/// Sets the name a method, event or parameter has on the wire. Without it, a method <c>GetStatusAsync</c> is called
/// <c>getStatus</c> (an <c>Async</c> suffix is dropped, then the name is camel-cased), an event <c>Changed</c> is <c>changed</c>
/// and a parameter keeps its camel-case name.
/// </summary>
/// <param name="name">The wire name.</param>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Event | AttributeTargets.Parameter, Inherited = true)]
public sealed class ServiceNameAttribute(string name) : Attribute
{
    /// <summary>Gets the wire name.</summary>
    public string Name { get; } = name;
}
