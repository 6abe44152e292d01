namespace Ataraxia.Cbor;

/// <summary>The eight CBOR major types (RFC 8949 §3.1).</summary>
public enum CborMajorType : byte
{
    /// <summary>Major type 0: an unsigned integer.</summary>
    UnsignedInteger = 0,

    /// <summary>Major type 1: a negative integer, <c>-1 - argument</c>.</summary>
    NegativeInteger = 1,

    /// <summary>Major type 2: a byte string.</summary>
    ByteString = 2,

    /// <summary>Major type 3: a UTF-8 text string.</summary>
    TextString = 3,

    /// <summary>Major type 4: an array.</summary>
    Array = 4,

    /// <summary>Major type 5: a map.</summary>
    Map = 5,

    /// <summary>Major type 6: a tagged item.</summary>
    Tag = 6,

    /// <summary>Major type 7: simple values, floats and the break code.</summary>
    SimpleOrFloat = 7,
}
