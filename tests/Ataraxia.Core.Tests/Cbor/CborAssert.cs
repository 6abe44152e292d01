using System.Globalization;
using System.Text;
using Ataraxia.Cbor;

namespace Ataraxia.Tests.Cbor;

/// <summary>Assertions on <see cref="CborValue"/> trees with JavaScript semantics.</summary>
internal static class CborAssert
{
    /// <summary>
    /// Asserts that <paramref name="actual"/> equals <paramref name="expected"/> (<see cref="CborValue.Equals(CborValue)"/>)
    /// and, stricter than that, that they are the same JS value: numbers compare like <c>Object.is</c> (so −0 differs
    /// from +0, and an integer equals a float of the same value because JS has one number type), and map keys
    /// appear in the same order.
    /// </summary>
    /// <param name="expected">The expected value.</param>
    /// <param name="actual">The actual value.</param>
    public static void Same(CborValue expected, CborValue actual)
    {
        Assert.True(expected.Equals(actual), $"Expected {Describe(expected)} but got {Describe(actual)} (Equals).");
        Assert.True(actual.Equals(expected), $"Expected {Describe(expected)} but got {Describe(actual)} (Equals, reversed).");
        Assert.True(expected.GetHashCode() == actual.GetHashCode(), $"Equal values {Describe(expected)} have different hash codes.");
        string? difference = FindDifference(expected, actual, "$");
        Assert.True(difference is null, $"Expected {Describe(expected)} but got {Describe(actual)}: {difference}");
    }

    /// <summary>Formats a value in a JS-like notation for failure messages.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The text.</returns>
    public static string Describe(CborValue value)
    {
        var builder = new StringBuilder();
        Describe(value, builder);
        return builder.ToString();
    }

    private static string? FindDifference(CborValue expected, CborValue actual, string path)
    {
        if (expected.Kind is CborValueKind.Integer or CborValueKind.Float)
        {
            if (actual.Kind is not (CborValueKind.Integer or CborValueKind.Float))
            {
                return $"{path}: expected a number, got {actual.Kind}";
            }

            double x = expected.AsDouble();
            double y = actual.AsDouble();
            bool same = double.IsNaN(x) ? double.IsNaN(y) : x == y && double.IsNegative(x) == double.IsNegative(y);
            return same ? null : $"{path}: expected number {Number(x)}, got {Number(y)}";
        }

        if (expected.Kind != actual.Kind)
        {
            return $"{path}: expected kind {expected.Kind}, got {actual.Kind}";
        }

        switch (expected)
        {
            case CborArray array:
            {
                var other = (CborArray)actual;
                if (array.Count != other.Count)
                {
                    return $"{path}: expected {array.Count} items, got {other.Count}";
                }

                for (int i = 0; i < array.Count; i++)
                {
                    string? difference = FindDifference(array[i], other[i], $"{path}[{i}]");
                    if (difference is not null)
                    {
                        return difference;
                    }
                }

                return null;
            }

            case CborMap map:
            {
                var other = (CborMap)actual;
                string expectedKeys = string.Join(",", map.Keys);
                string actualKeys = string.Join(",", other.Keys);
                if (expectedKeys != actualKeys)
                {
                    return $"{path}: expected keys in order [{expectedKeys}], got [{actualKeys}]";
                }

                foreach (KeyValuePair<string, CborValue> entry in map)
                {
                    string? difference = FindDifference(entry.Value, other[entry.Key], $"{path}.{entry.Key}");
                    if (difference is not null)
                    {
                        return difference;
                    }
                }

                return null;
            }

            case CborTagged tagged:
            {
                var other = (CborTagged)actual;
                return tagged.Tag != other.Tag
                    ? $"{path}: expected tag {tagged.Tag}, got {other.Tag}"
                    : FindDifference(tagged.Content, other.Content, $"{path}<{tagged.Tag}>");
            }

            default:
                return expected.Equals(actual) ? null : $"{path}: expected {Describe(expected)}, got {Describe(actual)}";
        }
    }

    private static void Describe(CborValue value, StringBuilder builder)
    {
        switch (value)
        {
            case CborInteger integer:
                builder.Append(integer.Value.ToString(CultureInfo.InvariantCulture));
                break;
            case CborFloat number:
                builder.Append(Number(number.Value)).Append('f');
                break;
            case CborText text:
                builder.Append('"').Append(text.Value).Append('"');
                break;
            case CborBytes bytes:
                builder.Append("h'").Append(Convert.ToHexStringLower(bytes.Value.Span)).Append('\'');
                break;
            case CborDate date:
                builder.Append("Date(").Append(date.Value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)).Append(')');
                break;
            case CborTagged tagged:
                builder.Append(tagged.Tag.ToString(CultureInfo.InvariantCulture)).Append('(');
                Describe(tagged.Content, builder);
                builder.Append(')');
                break;
            case CborSimple simple:
                builder.Append("simple(").Append(simple.Value.ToString(CultureInfo.InvariantCulture)).Append(')');
                break;
            case CborArray array:
                builder.Append('[');
                for (int i = 0; i < array.Count; i++)
                {
                    builder.Append(i == 0 ? string.Empty : ", ");
                    Describe(array[i], builder);
                }

                builder.Append(']');
                break;
            case CborMap map:
                builder.Append('{');
                bool first = true;
                foreach (KeyValuePair<string, CborValue> entry in map)
                {
                    builder.Append(first ? string.Empty : ", ").Append('"').Append(entry.Key).Append("\": ");
                    Describe(entry.Value, builder);
                    first = false;
                }

                builder.Append('}');
                break;
            default:
                builder.Append(value.ToString());
                break;
        }
    }

    private static string Number(double value) =>
        value == 0 && double.IsNegative(value) ? "-0" : value.ToString("R", CultureInfo.InvariantCulture);
}
