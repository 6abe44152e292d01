namespace Ataraxia.Cbor;

/// <summary>
/// Sets the map key that <see cref="CborSerializer"/> uses for a property, instead of its camelCase name.
/// </summary>
/// <remarks>
/// On a positional record, target the generated property: <c>record Point([property: CborPropertyName("px")] int X)</c>.
/// The name is used as it is on write and matched case-insensitively on read (an exact match wins).
/// </remarks>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class CborPropertyNameAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="name">The map key.</param>
    public CborPropertyNameAttribute(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Name = name;
    }

    /// <summary>Gets the map key.</summary>
    public string Name { get; }
}
