using System.CommandLine;
using System.Globalization;

namespace Ataraxia.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class CommandOptions
{
    /// <summary>A duration such as <c>500ms</c>, <c>10s</c> or <c>2m</c>.</summary>
    /// <remarks>Read it with <c>GetValue(option) ?? defaultValue</c>; the default is only named in the help.</remarks>
    public static Option<TimeSpan?> Duration(string name, TimeSpan defaultValue, string description) => new(name)
    {
        Description = $"{description} (default {Cli.Duration.Format(defaultValue)})",
        HelpName = "duration",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (Cli.Duration.TryParse(text, out TimeSpan value) && value > TimeSpan.Zero)
            {
                return value;
            }

            result.AddError($"{name} needs a duration such as 500ms, 10s or 2m, not '{text}'.");
            return null;
        },
    };

    /// <summary>A whole number of at least <paramref name="minimum"/>.</summary>
    /// <remarks>Read it with <c>GetValue(option) ?? defaultValue</c>.</remarks>
    public static Option<int?> Count(string name, int minimum, string helpName, string description) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= minimum)
            {
                return value;
            }

            result.AddError($"{name} needs a whole number of at least {minimum}, not '{text}'.");
            return null;
        },
    };

    /// <summary>Runs <paramref name="body"/> with a token that is cancelled after <paramref name="timeout"/>; its expiry becomes a timeout error.</summary>
    public static async Task<T> WithTimeoutAsync<T>(TimeSpan timeout, string what, Func<CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            return await body(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw CommandException.Timeout($"Timed out after {Cli.Duration.Format(timeout)} {what}.");
        }
    }

    public static async Task WithTimeoutAsync(TimeSpan timeout, string what, Func<CancellationToken, Task> body, CancellationToken cancellationToken) =>
        await WithTimeoutAsync<bool>(timeout, what, async token =>
        {
            await body(token).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
}
