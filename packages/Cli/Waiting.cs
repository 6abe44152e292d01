namespace Ataraxia.Cli;

/// <summary>Wakes a waiting command whenever something it watches may have changed (a node came, a service appeared).</summary>
internal sealed class ChangeSignal : IDisposable
{
    private readonly SemaphoreSlim _changed = new(0, int.MaxValue);

    public void Set()
    {
        try
        {
            _changed.Release();
        }
        catch (ObjectDisposedException)
        {
            // An event after the command finished.
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds, checking it again after every change.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await _changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until nothing changed for <paramref name="quiet"/>: lets a freshly joined node learn the rest of the mesh.</summary>
    public async Task WaitForQuietAsync(TimeSpan quiet, CancellationToken cancellationToken)
    {
        while (await _changed.WaitAsync(quiet, cancellationToken).ConfigureAwait(false))
        {
        }
    }

    public void Dispose() => _changed.Dispose();
}

/// <summary>Names a node on the command line: its full id, or the start of it when that is unambiguous.</summary>
internal static class NodeSelector
{
    /// <summary>Checks that <paramref name="text"/> can be (the start of) a node id.</summary>
    public static string Validate(string text, string what)
    {
        if (text.Length == 0 || !text.All(char.IsAsciiLetterOrDigit))
        {
            throw CommandException.Usage($"{what} needs a node id (letters and digits), not '{text}'.");
        }

        return text;
    }

    /// <summary>Finds the reachable node <paramref name="selector"/> names, or <see langword="null"/>.</summary>
    /// <exception cref="CommandException">The start of an id matches several nodes.</exception>
    public static Node? Find(IEnumerable<Node> nodes, string selector)
    {
        Node[] matching = [.. nodes.Where(n => n.Id.ToString().StartsWith(selector, StringComparison.Ordinal))];
        if (matching.FirstOrDefault(n => n.Id.ToString() == selector) is { } exact)
        {
            return exact;
        }

        return matching.Length switch
        {
            0 => null,
            1 => matching[0],
            _ => throw CommandException.Usage($"'{selector}' is the start of several node ids ({string.Join(", ", matching.Select(n => n.Id))}); give more of it."),
        };
    }

    public static bool Matches(NodeId id, string selector) => id.ToString().StartsWith(selector, StringComparison.Ordinal);
}
