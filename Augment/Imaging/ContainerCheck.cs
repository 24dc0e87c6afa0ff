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
        long width = 0, height = 0, scanBytes = 0;
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
            if (marker == 0xD9) return scan ? Plausible(width, height, scanBytes) : "the JPEG ends before any image scan";
            if (marker is 0x00 or 0x01 or (>= 0xD0 and <= 0xD7)) continue; // stand-alone markers
            if (i + 2 > d.Length) return Truncated(scan);
            int length = BinaryPrimitives.ReadUInt16BigEndian(d[i..]);
            if (length < 2) return $"the JPEG segment 0xFF{marker:X2} at byte {start} has an invalid length {length}";
            if (i + length > d.Length) return Truncated(scan);
            // Start of frame (SOF0–SOF15 except DHT C4, JPG C8, DAC CC): precision, height, width.
            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC) && length >= 7)
            {
                height = BinaryPrimitives.ReadUInt16BigEndian(d[(i + 3)..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(d[(i + 5)..]);
            }
            i += length;
            if (marker != 0xDA) continue;
            scan = true;
            int scanStart = i;
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
                scanBytes += j - scanStart;
                break;
            }
        }
    }

    /// <summary>
    /// Every 8×8 luma block costs at least one bit of scan data (a DC code), so a frame header declaring more blocks
    /// than there are scan bits cannot be backed by real data: a hostile header, or a file with its data cut away.
    /// </summary>
    static string? Plausible(long width, long height, long scanBytes)
    {
        long blocks = ((width + 7) / 8) * ((height + 7) / 8);
        return scanBytes * 8 < blocks
            ? $"the image data is truncated or corrupt: {scanBytes:N0} bytes of scan data cannot code a {width}×{height} image"
            : null;
    }

    /// <summary>Deflate's largest compression ratio (RFC 1951: a 258-byte match in at most 2 bits, ≈ 1032:1).</summary>
    public const int DeflateMaxRatio = 1032;

    static string Truncated(bool inScan) => inScan
        ? "the image data is truncated (the JPEG scan ends without an end-of-image marker)"
        : "the image data is truncated (the JPEG ends inside its headers)";

    /// <summary>
    /// Chunk by chunk from the signature: every chunk must fit in the data, IEND must come after IDAT, and the IDAT
    /// bytes must be able to inflate to the rows IHDR declares (at most <see cref="DeflateMaxRatio"/>:1), so a header
    /// declaring a huge image over a few bytes of data is refused before a pixel buffer is allocated for it.
    /// </summary>
    public static string? Png(ReadOnlySpan<byte> d)
    {
        int i = 8;
        bool idat = false;
        long width = 0, height = 0, bitsPerPixel = 0, idatBytes = 0;
        while (true)
        {
            if (i + 12 > d.Length) return "the image data is truncated (the PNG ends before its IEND chunk)";
            long length = BinaryPrimitives.ReadUInt32BigEndian(d[i..]);
            var type = d.Slice(i + 4, 4);
            if (length > int.MaxValue || i + 12 + length > d.Length)
                return $"the image data is truncated (the PNG chunk '{System.Text.Encoding.ASCII.GetString(type)}' at byte {i} runs past the end of the file)";
            if (type.SequenceEqual("IHDR"u8) && length >= 13)
            {
                width = BinaryPrimitives.ReadUInt32BigEndian(d[(i + 8)..]);
                height = BinaryPrimitives.ReadUInt32BigEndian(d[(i + 12)..]);
                int depth = d[i + 16], channels = d[i + 17] switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 1 };
                bitsPerPixel = (long)depth * channels;
            }
            if (type.SequenceEqual("IDAT"u8)) { idat = true; idatBytes += length; }
            if (type.SequenceEqual("IEND"u8))
            {
                if (!idat) return "the PNG has no image data (no IDAT chunk)";
                // Each row is a filter byte plus its packed pixels (the non-interlaced size; interlacing only adds).
                long rawBytes = height * (1 + (width * bitsPerPixel + 7) / 8);
                return idatBytes * DeflateMaxRatio < rawBytes
                    ? $"the image data is truncated or corrupt: {idatBytes:N0} compressed bytes cannot hold the {width}×{height} pixels the header declares"
                    : null;
            }
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
