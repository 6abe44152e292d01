using System.Buffers;

namespace Ataraxia.Tests.Protocol;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s, the shape a pipe hands to a frame reader.</summary>
internal static class TestSequence
{
    /// <summary>Creates a sequence with one segment per chunk, in order. Empty chunks become empty segments.</summary>
    /// <param name="chunks">The chunks; at least one.</param>
    /// <returns>The sequence over all chunks.</returns>
    public static ReadOnlySequence<byte> Create(params ReadOnlyMemory<byte>[] chunks)
    {
        ArgumentOutOfRangeException.ThrowIfZero(chunks.Length);
        var first = new Segment(chunks[0], 0);
        Segment last = first;
        for (int i = 1; i < chunks.Length; i++)
        {
            last = last.Append(chunks[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Splits <paramref name="bytes"/> at the given offsets (ascending, duplicates give empty segments).</summary>
    /// <param name="bytes">The bytes.</param>
    /// <param name="splits">The offsets at which a new segment starts.</param>
    /// <returns>The sequence.</returns>
    public static ReadOnlySequence<byte> Split(byte[] bytes, params int[] splits)
    {
        var chunks = new ReadOnlyMemory<byte>[splits.Length + 1];
        int start = 0;
        for (int i = 0; i < splits.Length; i++)
        {
            chunks[i] = bytes.AsMemory(start, splits[i] - start);
            start = splits[i];
        }

        chunks[^1] = bytes.AsMemory(start);
        return Create(chunks);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
