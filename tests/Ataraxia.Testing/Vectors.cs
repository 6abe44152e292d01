using System.Text.Json;
using Xunit;

namespace Ataraxia.Testing;

/// <summary>
/// The shared protocol test vectors (<c>tests/vectors/vectors.json</c>, a verbatim copy of
/// <c>shared/protocol/vectors/vectors.json</c>). A missing or malformed file throws, so tests
/// that use it fail rather than silently running with no data.
/// </summary>
public static class Vectors
{
    private const string RelativePath = "tests/vectors/vectors.json";

    private static readonly Lazy<List<JsonElement>> Loaded = new(Load);

    /// <summary>All vectors, in file order.</summary>
    public static IReadOnlyList<JsonElement> All => Loaded.Value;

    /// <summary>The vectors whose <c>category</c> is <paramref name="category"/>, in file order.</summary>
    /// <param name="category">The category, for example <c>"id"</c>.</param>
    /// <returns>The matching vectors (possibly none).</returns>
    public static IEnumerable<JsonElement> InCategory(string category) =>
        All.Where(v => v.GetProperty("category").GetString() == category);

    /// <summary>The vector with the given <c>name</c>.</summary>
    /// <param name="name">The vector name, for example <c>"id/encode/A"</c>.</param>
    /// <returns>The vector.</returns>
    /// <exception cref="KeyNotFoundException">No vector has that name.</exception>
    public static JsonElement Get(string name)
    {
        foreach (JsonElement vector in All)
        {
            if (vector.GetProperty("name").GetString() == name)
            {
                return vector;
            }
        }

        throw new KeyNotFoundException($"No test vector named '{name}' in {RelativePath}.");
    }

    /// <summary>Decodes a hex string (either case) to bytes.</summary>
    /// <param name="hex">The hex string; empty gives an empty array.</param>
    /// <returns>The bytes.</returns>
    public static byte[] Hex(string hex) => Convert.FromHexString(hex);

    /// <summary>The names of the vectors in a category, for <c>[MemberData]</c>.</summary>
    /// <param name="category">The category, for example <c>"id"</c>.</param>
    /// <returns>One row per vector name.</returns>
    /// <exception cref="InvalidOperationException">The category has no vectors.</exception>
    public static TheoryData<string> Names(string category)
    {
        var data = new TheoryData<string>();
        foreach (JsonElement vector in InCategory(category))
        {
            data.Add(vector.GetProperty("name").GetString()!);
        }

        if (data.Count == 0)
        {
            throw new InvalidOperationException($"No test vectors in category '{category}'.");
        }

        return data;
    }

    private static List<JsonElement> Load()
    {
        string path = Locate();
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
        JsonElement root = document.RootElement;
        JsonElement vectors = root.GetProperty("vectors").Clone();
        List<JsonElement> list = [.. vectors.EnumerateArray()];
        int declared = root.GetProperty("count").GetInt32();
        if (declared != list.Count)
        {
            throw new InvalidDataException($"{path} declares {declared} vectors but holds {list.Count}.");
        }

        return list;
    }

    // Walks up from the test output directory to the repository root.
    private static string Locate()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "vectors", "vectors.json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            $"Could not find {RelativePath} in {AppContext.BaseDirectory} or any parent directory.",
            RelativePath);
    }
}
