namespace Ataraxia.Cbor;

/// <summary>
/// Thrown when CBOR input is malformed, exceeds a configured limit, or uses a feature outside the supported
/// subset; also thrown when a value cannot be encoded in a form JavaScript peers accept.
/// </summary>
public sealed class CborException : ProtocolException
{
    /// <summary>Creates an exception with a default message.</summary>
    public CborException()
        : base("Invalid CBOR.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">What was wrong.</param>
    public CborException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">What was wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public CborException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
