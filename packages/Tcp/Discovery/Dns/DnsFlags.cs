namespace Ataraxia.Tcp.Discovery.Dns;

/// <summary>
/// The 16-bit flags word of a DNS header (RFC 1035 §4.1.1, RFC 4035 §3.2). OPCODE and RCODE are fields, not bits:
/// see <see cref="OpcodeMask"/>, <see cref="ResponseCodeMask"/> and <see cref="DnsFlagsExtensions"/>.
/// </summary>
[Flags]
internal enum DnsFlags : ushort
{
    /// <summary>No bits set: a standard query.</summary>
    None = 0,

    /// <summary>Where the RCODE field lives (low four bits).</summary>
    ResponseCodeMask = 0x000F,

    /// <summary>CD, checking disabled (DNSSEC).</summary>
    CheckingDisabled = 0x0010,

    /// <summary>AD, authentic data (DNSSEC).</summary>
    AuthenticData = 0x0020,

    /// <summary>Z, reserved; must be zero.</summary>
    Reserved = 0x0040,

    /// <summary>RA, recursion available.</summary>
    RecursionAvailable = 0x0080,

    /// <summary>RD, recursion desired.</summary>
    RecursionDesired = 0x0100,

    /// <summary>TC, truncated; in mDNS queries, more known answers follow in later packets (RFC 6762 §7.2).</summary>
    Truncated = 0x0200,

    /// <summary>AA, authoritative answer; set in every mDNS response (RFC 6762 §18.4).</summary>
    Authoritative = 0x0400,

    /// <summary>Where the OPCODE field lives (bits 11 to 14).</summary>
    OpcodeMask = 0x7800,

    /// <summary>QR: the message is a response.</summary>
    Response = 0x8000,
}

/// <summary>Reads and sets the OPCODE and RCODE fields of <see cref="DnsFlags"/>.</summary>
internal static class DnsFlagsExtensions
{
    /// <summary>Gets the OPCODE field (0 is a standard query, the only one mDNS uses).</summary>
    /// <param name="flags">The flags.</param>
    /// <returns>The opcode, 0 to 15.</returns>
    public static int GetOpcode(this DnsFlags flags) => ((int)flags >> 11) & 0xF;

    /// <summary>Gets the RCODE field (0 is no error, the only one mDNS uses).</summary>
    /// <param name="flags">The flags.</param>
    /// <returns>The response code, 0 to 15.</returns>
    public static int GetResponseCode(this DnsFlags flags) => (int)flags & 0xF;

    /// <summary>Returns the flags with the OPCODE field set.</summary>
    /// <param name="flags">The flags.</param>
    /// <param name="opcode">The opcode, 0 to 15.</param>
    /// <returns>The new flags.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="opcode"/> is not 0 to 15.</exception>
    public static DnsFlags WithOpcode(this DnsFlags flags, int opcode)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(opcode);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(opcode, 15);
        return (flags & ~DnsFlags.OpcodeMask) | (DnsFlags)(opcode << 11);
    }

    /// <summary>Returns the flags with the RCODE field set.</summary>
    /// <param name="flags">The flags.</param>
    /// <param name="responseCode">The response code, 0 to 15.</param>
    /// <returns>The new flags.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="responseCode"/> is not 0 to 15.</exception>
    public static DnsFlags WithResponseCode(this DnsFlags flags, int responseCode)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(responseCode);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(responseCode, 15);
        return (flags & ~DnsFlags.ResponseCodeMask) | (DnsFlags)responseCode;
    }
}
