using System.Globalization;
using System.Text;

namespace Ataraxia.Cbor;

/// <summary>
/// The state of one <see cref="CborSerializer"/> call: the nesting depth and the path from the root, which every
/// error message names (<c>$.items[2].count</c>).
/// </summary>
/// <remarks>
/// Path and depth are not restored when an exception escapes: the context belongs to the failed call and is dropped.
/// </remarks>
internal sealed class CborMappingContext
{
    private const int MaxTextPreview = 40;

    private readonly List<(string? Name, int Index)> _path = [];
    private int _depth;

    public string Path
    {
        get
        {
            var builder = new StringBuilder("$");
            foreach ((string? name, int index) in _path)
            {
                if (name is null)
                {
                    builder.Append('[').Append(index.ToString(CultureInfo.InvariantCulture)).Append(']');
                }
                else if (IsIdentifier(name))
                {
                    builder.Append('.').Append(name);
                }
                else
                {
                    builder.Append("[\"").Append(name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append("\"]");
                }
            }

            return builder.ToString();
        }
    }

    public void PushName(string name) => _path.Add((name, -1));

    public void PushIndex(int index) => _path.Add((null, index));

    public void Pop() => _path.RemoveAt(_path.Count - 1);

    public void EnterWrite(Type type)
    {
        if (++_depth > CborSerializer.MaxDepth)
        {
            throw WriteError(type, $"the value nests deeper than {CborSerializer.MaxDepth} levels; does the object graph contain a cycle?");
        }
    }

    public void EnterRead(Type type, CborValue value)
    {
        if (++_depth > CborSerializer.MaxDepth)
        {
            throw ReadError(type, value, $"the value nests deeper than {CborSerializer.MaxDepth} levels");
        }
    }

    public void Exit() => _depth--;

    public CborException ReadError(Type target, CborValue value, string? reason = null, Exception? innerException = null)
    {
        string message = $"Cannot map {Describe(value)} to {TypeName(target)} at {Path}" + (reason is null ? "." : $": {reason}.");
        return innerException is null ? new CborException(message) : new CborException(message, innerException);
    }

    public CborException WriteError(Type source, string reason, Exception? innerException = null)
    {
        string message = $"Cannot map {TypeName(source)} to CBOR at {Path}: {reason}.";
        return innerException is null ? new CborException(message) : new CborException(message, innerException);
    }

    // C#-like names: System.Int32, System.Collections.Generic.List<System.Int32>, System.Int32?, System.Byte[].
    public static string TypeName(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is Type underlying)
        {
            return TypeName(underlying) + "?";
        }

        if (type.IsArray && type.GetElementType() is Type element)
        {
            return TypeName(element) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        }

        string name = type.FullName ?? type.Name;
        if (!type.IsGenericType)
        {
            return name;
        }

        string definition = type.GetGenericTypeDefinition().FullName ?? type.Name;
        int tick = definition.IndexOf('`', StringComparison.Ordinal);
        return (tick < 0 ? definition : definition[..tick]) + "<" + string.Join(", ", type.GetGenericArguments().Select(TypeName)) + ">";
    }

    public static string Describe(CborValue value) => value switch
    {
        CborInteger i => $"integer {i}",
        CborFloat f => $"number {f}",
        CborText t => t.Value.Length <= MaxTextPreview ? $"text \"{t.Value}\"" : $"text \"{t.Value[..MaxTextPreview]}…\" ({t.Value.Length} characters)",
        CborBytes b => $"a byte string of {b.Value.Length} bytes",
        CborArray a => $"an array of {a.Count} items",
        CborMap m => $"a map with {m.Count} keys",
        CborDate d => $"date {d}",
        CborTagged t => $"an item with tag {t.Tag}",
        CborSimple s => $"simple value {s.Value}",
        _ => value.ToString() ?? value.Kind.ToString(),
    };

    private static bool IsIdentifier(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '_' and not '$')
            {
                return false;
            }
        }

        return true;
    }
}
