namespace Ataraxia.Cbor;

/// <summary>
/// Makes <see cref="CborSerializer"/> skip a property: it is neither written nor read.
/// </summary>
/// <remarks>
/// On a positional record, target the generated property: <c>record User(string Name, [property: CborIgnore] string Secret)</c>;
/// the constructor parameter of an ignored property receives its default value when reading.
/// </remarks>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class CborIgnoreAttribute : Attribute
{
}
