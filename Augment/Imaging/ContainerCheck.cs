using System.Buffers.Binary;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;

namespace TransferKit.Augment.Imaging;

/// <summary>
/// Walks a file's container structure (JPEG markers, PNG chunks, the WebP RIFF size) without decoding pixels, to refuse
/// truncated files: ImageSharp, like libjpeg, decodes a JPEG cut short inside its scan by filling the rest with grey,
/// which would silently train on half an image.
/// </summary>
public static class ContainerCheck
{
    /// <summary>Null when the structure is complete, else why the data is truncated or broken.</summary>
    public static string? Truncation(IImageFormat format, ReadOnlySpan<byte> data) => format switch
    {
        JpegFormat => Jpeg(data),
        PngFormat => Png(data),
        WebpFormat => Webp(data),
        _ => null,
    };

    /// <summary>
    /// Segment by segment from SOI: each marker segment is skipped by its length (so EXIF thumbnails inside APP1 are
    /// never mistaken for the image's end), entropy-coded data after SOS runs to the next marker that is not a stuffed
    /// 0xFF00 or a restart marker, and the walk must reach EOI before the data ends.
    /// </summary>
    public static string? Jpeg(ReadOnlySpan<byte> d)
    {
        if (d.Length < 4 || d[0] != 0xFF || d[1] != 0xD8) return "the JPEG start-of-image marker is missing";
        int i = 2;
        bool scan = false;
        while (true)
        {
            // Bytes between segments are tolerated (libjpeg warns and skips them); find the next marker.
            int next = d[i..].IndexOf((byte)0xFF);
            if (next < 0) return Truncated(scan);
            i += next;
            while (i < d.Length && d[i] == 0xFF) i++; // fill bytes
            if (i >= d.Length) return Truncated(scan);
            byte marker = d[i];
            int start = i - 1;
            i++;
            if (marker == 0xD9) return scan ? null : "the JPEG ends before any image scan";
            if (marker is 0x00 or 0x01 or (>= 0xD0 and <= 0xD7)) continue; // stand-alone markers
            if (i + 2 > d.Length) return Truncated(scan);
            int length = BinaryPrimitives.ReadUInt16BigEndian(d[i..]);
            if (length < 2) return $"the JPEG segment 0xFF{marker:X2} at byte {start} has an invalid length {length}";
            if (i + length > d.Length) return Truncated(scan);
            i += length;
            if (marker != 0xDA) continue;
            scan = true;
            // Entropy-coded data: runs to the next 0xFF that starts a real marker.
            while (true)
            {
                int ff = d[i..].IndexOf((byte)0xFF);
                if (ff < 0) return Truncated(scan);
                int j = i + ff;
                if (j + 1 >= d.Length) return Truncated(scan);
                byte after = d[j + 1];
                if (after == 0x00 || after is >= 0xD0 and <= 0xD7) { i = j + 2; continue; }
                if (after == 0xFF) { i = j + 1; continue; }
                i = j;
                break;
            }
        }
    }

    static string Truncated(bool inScan) => inScan
        ? "the image data is truncated (the JPEG scan ends without an end-of-image marker)"
        : "the image data is truncated (the JPEG ends inside its headers)";

    /// <summary>Chunk by chunk from the signature: every chunk must fit in the data, and IEND must come after IDAT.</summary>
    public static string? Png(ReadOnlySpan<byte> d)
    {
        int i = 8;
        bool idat = false;
        while (true)
        {
            if (i + 12 > d.Length) return "the image data is truncated (the PNG ends before its IEND chunk)";
            long length = BinaryPrimitives.ReadUInt32BigEndian(d[i..]);
            var type = d.Slice(i + 4, 4);
            if (length > int.MaxValue || i + 12 + length > d.Length)
                return $"the image data is truncated (the PNG chunk '{System.Text.Encoding.ASCII.GetString(type)}' at byte {i} runs past the end of the file)";
            if (type.SequenceEqual("IDAT"u8)) idat = true;
            if (type.SequenceEqual("IEND"u8)) return idat ? null : "the PNG has no image data (no IDAT chunk)";
            i += 12 + (int)length;
        }
    }

    /// <summary>The RIFF header's declared size must fit in the data.</summary>
    public static string? Webp(ReadOnlySpan<byte> d)
    {
        if (d.Length < 12) return "the image data is truncated (the WebP RIFF header is incomplete)";
        long declared = BinaryPrimitives.ReadUInt32LittleEndian(d[4..]) + 8L;
        return declared > d.Length ? $"the image data is truncated (the WebP declares {declared:N0} bytes, the file has {d.Length:N0})" : null;
    }
}
