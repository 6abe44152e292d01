namespace Ataraxia;

/// <summary>
/// Thrown when bytes received from a peer violate the Ataraxia peer protocol or its CBOR encoding.
/// </summary>
/// <remarks>
/// A session that sees this exception ends with <see cref="PeerDisconnectReason.ProtocolError"/>; the
/// exception never escapes the read loop of a connection.
/// </remarks>
public class ProtocolException : Exception
{
    /// <summary>Creates an exception with a default message.</summary>
    public ProtocolException()
        : base("The peer violated the protocol.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What was wrong with the input.</param>
    public ProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">What was wrong with the input.</param>
    /// <param name="innerException">The underlying error.</param>
    public ProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
