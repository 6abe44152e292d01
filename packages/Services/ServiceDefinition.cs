using Ataraxia.Cbor;

namespace Ataraxia;

/// <summary>
/// What a node says it offers under a service id: its methods and events (the <c>ServiceDef</c> of WIRE.md §13).
/// JavaScript nodes and .NET nodes describe their services the same way.
/// </summary>
/// <param name="Id">The service id.</param>
/// <param name="Methods">The methods that can be called.</param>
/// <param name="Events">The events that can be subscribed to.</param>
public sealed record ServiceDefinition(string Id, IReadOnlyList<ServiceMethodDefinition> Methods, IReadOnlyList<ServiceEventDefinition> Events)
{
    /// <summary>Finds a method by its wire name.</summary>
    /// <param name="name">The method name, as sent on the wire (for example <c>echo</c>).</param>
    /// <returns>The method, or <see langword="null"/>.</returns>
    public ServiceMethodDefinition? FindMethod(string name)
    {
        foreach (ServiceMethodDefinition method in Methods)
        {
            if (method.Name == name)
            {
                return method;
            }
        }

        return null;
    }

    internal CborMap ToCbor()
    {
        var methods = new List<CborValue>(Methods.Count);
        foreach (ServiceMethodDefinition m in Methods)
        {
            methods.Add(new CborMap
            {
                ["name"] = m.Name,
                ["description"] = Text(m.Description),
                ["returnType"] = m.ReturnType,
                ["parameters"] = Parameters(m.Parameters),
            });
        }

        var events = new List<CborValue>(Events.Count);
        foreach (ServiceEventDefinition e in Events)
        {
            events.Add(new CborMap
            {
                ["name"] = e.Name,
                ["description"] = Text(e.Description),
                ["parameters"] = Parameters(e.Parameters),
            });
        }

        return new CborMap { ["id"] = Id, ["methods"] = new CborArray(methods), ["events"] = new CborArray(events) };
    }

    /// <summary>Reads a definition leniently: missing lists are empty, missing or non-text descriptions are <see langword="null"/>.</summary>
    internal static ServiceDefinition FromCbor(CborValue value)
    {
        CborMap map = value.AsMap();
        string id = map["id"].AsString();
        var methods = new List<ServiceMethodDefinition>();
        foreach (CborValue item in List(map, "methods"))
        {
            CborMap m = item.AsMap();
            methods.Add(new ServiceMethodDefinition(
                m["name"].AsString(),
                OptionalText(m, "description"),
                OptionalText(m, "returnType") ?? "any",
                ReadParameters(m)));
        }

        var events = new List<ServiceEventDefinition>();
        foreach (CborValue item in List(map, "events"))
        {
            CborMap e = item.AsMap();
            events.Add(new ServiceEventDefinition(e["name"].AsString(), OptionalText(e, "description"), ReadParameters(e)));
        }

        return new ServiceDefinition(id, methods, events);
    }

    private static CborArray Parameters(IReadOnlyList<ServiceParameterDefinition> parameters)
    {
        var list = new List<CborValue>(parameters.Count);
        foreach (ServiceParameterDefinition p in parameters)
        {
            list.Add(new CborMap
            {
                ["name"] = p.Name,
                ["description"] = Text(p.Description),
                ["optional"] = p.Optional,
                ["rest"] = p.Rest,
                ["type"] = p.Type,
            });
        }

        return new CborArray(list);
    }

    private static List<ServiceParameterDefinition> ReadParameters(CborMap map)
    {
        var result = new List<ServiceParameterDefinition>();
        foreach (CborValue item in List(map, "parameters"))
        {
            CborMap p = item.AsMap();
            result.Add(new ServiceParameterDefinition(
                OptionalText(p, "name") ?? string.Empty,
                OptionalText(p, "description"),
                OptionalBool(p, "optional"),
                OptionalBool(p, "rest"),
                OptionalText(p, "type") ?? "any"));
        }

        return result;
    }

    private static CborValue Text(string? value) => value is null ? CborValue.Undefined : value;

    private static CborArray List(CborMap map, string key) =>
        map.GetValueOrDefault(key) as CborArray ?? [];

    private static string? OptionalText(CborMap map, string key) => map.GetValueOrDefault(key) is CborText t ? t.Value : null;

    private static bool OptionalBool(CborMap map, string key) =>
        map.GetValueOrDefault(key) is { Kind: CborValueKind.Boolean } b && b.AsBoolean();
}

/// <summary>A method of a service.</summary>
/// <param name="Name">The method name on the wire.</param>
/// <param name="Description">A description, or <see langword="null"/>.</param>
/// <param name="ReturnType">The type id of the result: <c>string</c>, <c>number</c>, <c>boolean</c>, <c>void</c>, <c>array&lt;…&gt;</c> or a custom id.</param>
/// <param name="Parameters">The parameters.</param>
public sealed record ServiceMethodDefinition(string Name, string? Description, string ReturnType, IReadOnlyList<ServiceParameterDefinition> Parameters);

/// <summary>An event of a service.</summary>
/// <param name="Name">The event name on the wire.</param>
/// <param name="Description">A description, or <see langword="null"/>.</param>
/// <param name="Parameters">The values each occurrence carries.</param>
public sealed record ServiceEventDefinition(string Name, string? Description, IReadOnlyList<ServiceParameterDefinition> Parameters);

/// <summary>A parameter of a method or event.</summary>
/// <param name="Name">The parameter name.</param>
/// <param name="Description">A description, or <see langword="null"/>.</param>
/// <param name="Optional">Whether callers may leave it out.</param>
/// <param name="Rest">Whether it collects all remaining arguments (a <see langword="params"/> array).</param>
/// <param name="Type">The type id.</param>
public sealed record ServiceParameterDefinition(string Name, string? Description, bool Optional, bool Rest, string Type);
