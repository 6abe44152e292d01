using Ataraxia.Cbor;

namespace Ataraxia;

/// <summary>
/// One call of a method of a service registered with a handler
/// (<see cref="Services.Register(string, ServiceDefinition, Func{ServiceInvocation, CancellationToken, ValueTask{CborValue}})"/>).
/// </summary>
/// <param name="Caller">
/// The node that made the call, as authenticated by the mesh: the source of the request message, or this node's own id
/// for a call made here. A handler can use it to decide who may call.
/// </param>
/// <param name="Service">The service id.</param>
/// <param name="Method">The method name, one of the definition's methods.</param>
/// <param name="Arguments">The arguments in the order the caller passed them, as CBOR values.</param>
public sealed record ServiceInvocation(NodeId Caller, string Service, string Method, CborArray Arguments);
