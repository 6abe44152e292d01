namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>
/// A DNS message could not be decoded: it is truncated, malformed, or breaks a limit of the reader. This is the only
/// exception <see cref="DnsMessageReader"/> throws for bad input.
/// </summary>
internal sealed class DnsFormatException : FormatException
{
    /// <summary>Initializes a new instance of the <see cref="DnsFormatException"/> class.</summary>
    public DnsFormatException()
        : this("The DNS message is malformed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="DnsFormatException"/> class.</summary>
    /// <param name="message">What is wrong.</param>
    public DnsFormatException(string message)
        : base(message)
    {
        Offset = -1;
    }

    /// <summary>Initializes a new instance of the <see cref="DnsFormatException"/> class.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public DnsFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Offset = -1;
    }

    /// <summary>Initializes a new instance of the <see cref="DnsFormatException"/> class.</summary>
    /// <param name="offset">The offset in the packet where the problem was found.</param>
    /// <param name="message">What is wrong; the offset is prefixed to it.</param>
    public DnsFormatException(int offset, string message)
        : base($"Malformed DNS message at offset {offset}: {message}")
    {
        Offset = offset;
    }

    /// <summary>Gets the offset in the packet where the problem was found, or -1 if it concerns no single offset.</summary>
    public int Offset { get; }
}
