using System.Text;

namespace Ataraxia.Protocol;

/// <summary>
/// The DATA message types a connection saw last, so that a stream of messages of the same few types decodes
/// without a new string per message. One per session; not thread-safe (the read loop owns it).
/// </summary>
internal sealed class TypeNameCache
{
    private const int Size = 8;
    private const int MaxCachedLength = 128;
    private readonly byte[]?[] _utf8 = new byte[]?[Size];
    private readonly string[] _text = new string[Size];
    private int _next;

    /// <summary>Returns the string for already validated UTF-8 bytes, reusing a cached one when the bytes match.</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        for (int i = 0; i < Size; i++)
        {
            if (_utf8[i] is byte[] known && utf8.SequenceEqual(known))
            {
                return _text[i];
            }
        }

        string text = Encoding.UTF8.GetString(utf8);
        if (utf8.Length <= MaxCachedLength)
        {
            int slot = _next;
            _next = (slot + 1) % Size;
            _utf8[slot] = utf8.ToArray();
            _text[slot] = text;
        }

        return text;
    }
}
