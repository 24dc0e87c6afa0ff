using System.Buffers.Binary;

namespace TransferKit.Augment.Imaging;

/// <summary>
/// Reads the declared size straight from the first bytes of PNG, GIF and BMP files, so an implausible size is
/// refused with a clear reason even when the codec itself rejects the header without saying why.
/// </summary>
public static class HeaderSniffer
{
    /// <summary>Bytes needed by <see cref="TryReadSize"/>.</summary>
    public const int BytesNeeded = 26;

    /// <summary>The declared width and height, or null when the format is not one of PNG, GIF, BMP.</summary>
    public static (long Width, long Height)? TryReadSize(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 24 && head[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            && head.Slice(12, 4).SequenceEqual("IHDR"u8))
            return (BinaryPrimitives.ReadUInt32BigEndian(head[16..]), BinaryPrimitives.ReadUInt32BigEndian(head[20..]));
        if (head.Length >= 10 && (head[..6].SequenceEqual("GIF87a"u8) || head[..6].SequenceEqual("GIF89a"u8)))
            return (BinaryPrimitives.ReadUInt16LittleEndian(head[6..]), BinaryPrimitives.ReadUInt16LittleEndian(head[8..]));
        if (head.Length >= 26 && head[0] == 'B' && head[1] == 'M')
        {
            int headerSize = BinaryPrimitives.ReadInt32LittleEndian(head[14..]);
            if (headerSize >= 40)
                return (Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(head[18..])),
                        Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(head[22..])));
        }
        return null;
    }
}
