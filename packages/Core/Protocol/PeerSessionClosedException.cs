namespace Ataraxia.Protocol;

/// <summary>Thrown by operations on a peer session that has ended, or that ended before it became active.</summary>
public sealed class PeerSessionClosedException : Exception
{
    /// <summary>Creates the exception with <see cref="PeerDisconnectReason.Manual"/>.</summary>
    public PeerSessionClosedException()
        : this(PeerDisconnectReason.Manual, null)
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public PeerSessionClosedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public PeerSessionClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a reason.</summary>
    /// <param name="reason">Why the session ended.</param>
    /// <param name="innerException">The error that ended it, if any.</param>
    public PeerSessionClosedException(PeerDisconnectReason reason, Exception? innerException)
        : base(DescribeReason(reason, innerException), innerException)
    {
        Reason = reason;
    }

    /// <summary>Gets why the session ended.</summary>
    public PeerDisconnectReason Reason { get; }

    private static string DescribeReason(PeerDisconnectReason reason, Exception? innerException)
    {
        string text = reason switch
        {
            PeerDisconnectReason.Manual => "The peer session was closed locally.",
            PeerDisconnectReason.RemoteBye => "The peer closed the session (BYE).",
            PeerDisconnectReason.RemoteClosed => "The peer closed the connection.",
            PeerDisconnectReason.NegotiationTimeout => "The peer did not complete negotiation in time.",
            PeerDisconnectReason.AuthenticationFailed => "Authentication with the peer failed.",
            PeerDisconnectReason.PingTimeout => "The peer stopped answering (ping timeout).",
            PeerDisconnectReason.ProtocolError => "The peer violated the protocol.",
            PeerDisconnectReason.TransportError => "The connection to the peer failed.",
            _ => "The peer session ended.",
        };
        return innerException is null ? text : $"{text} {innerException.Message}";
    }
}
