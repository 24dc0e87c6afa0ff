using System.Buffers.Binary;

namespace TransferKit.Augment.Imaging;

/// <summary>
/// Reads the declared size straight from the header of PNG, GIF, BMP and JPEG files, so an implausible size (0×0,
/// 65500×65500) is refused with a clear reason naming it, before the codec is asked, even when the codec itself would
/// reject the header without saying why.
/// </summary>
public static class HeaderSniffer
{
    /// <summary>Bytes <see cref="TryReadSize"/> needs for PNG, GIF and BMP (a JPEG needs the bytes up to its frame header).</summary>
    public const int BytesNeeded = 26;

    /// <summary>The declared width and height, or null when the format is not one of PNG, GIF, BMP, JPEG (or a JPEG frame header is not found).</summary>
    public static (long Width, long Height)? TryReadSize(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 4 && head[0] == 0xFF && head[1] == 0xD8) return JpegFrameSize(head);
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

    /// <summary>
    /// The size in the first start-of-frame segment (SOF0–SOF15 except DHT C4, JPG C8, DAC CC: FFCn, length,
    /// precision, height, width), walking segment by segment from SOI by their lengths; null when a scan, the end or
    /// a broken length comes first (the container check then says what is wrong).
    /// </summary>
    static (long Width, long Height)? JpegFrameSize(ReadOnlySpan<byte> d)
    {
        int i = 2;
        while (i + 4 <= d.Length)
        {
            if (d[i] != 0xFF || d[i + 1] == 0xFF) { i++; continue; } // stray and fill bytes, as libjpeg tolerates
            byte marker = d[i + 1];
            if (marker is 0x00 or 0x01 or (>= 0xD0 and <= 0xD7)) { i += 2; continue; } // stand-alone markers
            if (marker is 0xD9 or 0xDA) return null;
            int length = BinaryPrimitives.ReadUInt16BigEndian(d[(i + 2)..]);
            if (length < 2) return null;
            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC))
                return length >= 7 && i + 9 <= d.Length
                    ? (BinaryPrimitives.ReadUInt16BigEndian(d[(i + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(d[(i + 5)..]))
                    : null;
            i += 2 + length;
        }
        return null;
    }
}
