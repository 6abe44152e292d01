using System.IO.Pipelines;

namespace Ataraxia.Protocol;

/// <summary>An in-memory connection: two pipes crossed into a pair of <see cref="IDuplexPipe"/> ends.</summary>
/// <remarks>
/// What one end writes, the other reads; completing one end's output ends the other end's input (a half-close).
/// Useful for tests and for running peer sessions inside one process.
/// </remarks>
public sealed class DuplexPipe : IDuplexPipe
{
    private DuplexPipe(PipeReader input, PipeWriter output)
    {
        Input = input;
        Output = output;
    }

    /// <inheritdoc />
    public PipeReader Input { get; }

    /// <inheritdoc />
    public PipeWriter Output { get; }

    /// <summary>Creates a connected pair.</summary>
    /// <param name="maxBufferedBytes">
    /// Bytes one direction may buffer before the writer waits. Must exceed the largest frame a session accepts;
    /// defaults to 17 MiB (the default maximum frame size plus headroom).
    /// </param>
    /// <returns>The two ends.</returns>
    public static (DuplexPipe First, DuplexPipe Second) CreatePair(long maxBufferedBytes = 17 * 1024 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBufferedBytes, 1024);
        var options = new PipeOptions(
            pauseWriterThreshold: maxBufferedBytes,
            resumeWriterThreshold: maxBufferedBytes / 2,
            useSynchronizationContext: false);
        var forward = new Pipe(options);
        var backward = new Pipe(options);
        return (new DuplexPipe(backward.Reader, forward.Writer), new DuplexPipe(forward.Reader, backward.Writer));
    }
}
