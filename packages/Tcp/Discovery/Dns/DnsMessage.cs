namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>
/// A DNS message (RFC 1035 §4.1) as mDNS uses it (RFC 6762). Decode with <see cref="DnsMessageReader"/>, encode
/// with <see cref="DnsMessageWriter"/>. Two messages are equal when their headers and sections are equal, entry by
/// entry (names compare case-insensitively).
/// </summary>
internal sealed record DnsMessage
{
    /// <summary>The length of the fixed header.</summary>
    public const int HeaderLength = 12;

    /// <summary>Gets the message id; 0 in multicast mDNS messages (RFC 6762 §18.1).</summary>
    public ushort Id { get; init; }

    /// <summary>Gets the flags word, OPCODE and RCODE included.</summary>
    public DnsFlags Flags { get; init; }

    /// <summary>Gets a value indicating whether this is a response (QR).</summary>
    public bool IsResponse => (Flags & DnsFlags.Response) != 0;

    /// <summary>Gets a value indicating whether the answer is authoritative (AA).</summary>
    public bool IsAuthoritative => (Flags & DnsFlags.Authoritative) != 0;

    /// <summary>Gets a value indicating whether the message is truncated (TC).</summary>
    public bool IsTruncated => (Flags & DnsFlags.Truncated) != 0;

    /// <summary>Gets the OPCODE, 0 to 15.</summary>
    public int Opcode => Flags.GetOpcode();

    /// <summary>Gets the RCODE, 0 to 15.</summary>
    public int ResponseCode => Flags.GetResponseCode();

    /// <summary>Gets the question section.</summary>
    public IReadOnlyList<DnsQuestion> Questions { get; init; } = [];

    /// <summary>Gets the answer section.</summary>
    public IReadOnlyList<DnsRecord> Answers { get; init; } = [];

    /// <summary>Gets the authority section (in mDNS, proposed records while probing, RFC 6762 §8.2).</summary>
    public IReadOnlyList<DnsRecord> Authorities { get; init; } = [];

    /// <summary>Gets the additional section.</summary>
    public IReadOnlyList<DnsRecord> Additionals { get; init; } = [];

    /// <inheritdoc/>
    public bool Equals(DnsMessage? other) =>
        other is not null
        && Id == other.Id
        && Flags == other.Flags
        && Questions.SequenceEqual(other.Questions)
        && Answers.SequenceEqual(other.Answers)
        && Authorities.SequenceEqual(other.Authorities)
        && Additionals.SequenceEqual(other.Additionals);

    /// <inheritdoc/>
    public override int GetHashCode() =>
        HashCode.Combine(Id, Flags, Questions.Count, Answers.Count, Authorities.Count, Additionals.Count);
}
