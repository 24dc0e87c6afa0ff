using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace TransferKit.Augment.Tests;

/// <summary>Hand-built image files for formats and quirks the encoders in ImageIO do not write (16-bit PNG, CMYK JPEG, BMP, EXIF).</summary>
public static class TestFiles
{
    /// <summary>A PNG with the given colour type and bit depth; <paramref name="rows"/> are the unfiltered scanlines.</summary>
    public static byte[] Png(int width, int height, byte bitDepth, byte colorType, byte[][] rows, byte[]? palette = null)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth; ihdr[9] = colorType;
        Chunk(ms, "IHDR", ihdr);
        if (palette is not null) Chunk(ms, "PLTE", palette);
        using (var raw = new MemoryStream())
        {
            using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
                foreach (var row in rows) { z.WriteByte(0); z.Write(row); }
            Chunk(ms, "IDAT", raw.ToArray());
        }
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    /// <summary>A PNG header that declares <paramref name="width"/>×<paramref name="height"/> but carries almost no data.</summary>
    public static byte[] HugePngHeader(int width, int height)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 2;
        Chunk(ms, "IHDR", ihdr);
        using (var raw = new MemoryStream())
        {
            using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true)) z.Write(new byte[64]);
            Chunk(ms, "IDAT", raw.ToArray());
        }
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    /// <summary>
    /// A copy of a PNG whose IHDR declares <paramref name="width"/>×<paramref name="height"/>, with the chunk's CRC
    /// recomputed so only the size is wrong.
    /// </summary>
    public static byte[] WithIhdrSize(byte[] png, uint width, uint height)
    {
        var copy = (byte[])png.Clone();
        if (Encoding.ASCII.GetString(copy, 12, 4) != "IHDR") throw new ArgumentException("IHDR is not the first chunk.");
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(16), width);
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(29), Crc32(copy[12..29]));
        return copy;
    }

    static void Chunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32([.. typeBytes, .. data]));
        s.Write(crc);
    }

    static uint Crc32(byte[] data)
    {
        uint c = 0xFFFFFFFF;
        foreach (var b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    /// <summary>A 16-bit RGB PNG: red ramp left to right, green 0, blue full.</summary>
    public static byte[] Png16(int width, int height)
    {
        var rows = new byte[height][];
        for (int y = 0; y < height; y++)
        {
            rows[y] = new byte[width * 6];
            for (int x = 0; x < width; x++)
            {
                ushort r = (ushort)(x * 65535 / Math.Max(1, width - 1));
                BinaryPrimitives.WriteUInt16BigEndian(rows[y].AsSpan(6 * x), r);
                BinaryPrimitives.WriteUInt16BigEndian(rows[y].AsSpan(6 * x + 2), 0);
                BinaryPrimitives.WriteUInt16BigEndian(rows[y].AsSpan(6 * x + 4), 65535);
            }
        }
        return Png(width, height, 16, 2, rows);
    }

    /// <summary>An 8-bit palette PNG of two colours (left half red, right half blue).</summary>
    public static byte[] PalettePng(int width, int height)
    {
        var rows = Enumerable.Range(0, height).Select(_ => Enumerable.Range(0, width).Select(x => (byte)(x < width / 2 ? 0 : 1)).ToArray()).ToArray();
        return Png(width, height, 8, 3, rows, [255, 0, 0, 0, 0, 255]);
    }

    /// <summary>An 8-bit grayscale PNG with a horizontal ramp.</summary>
    public static byte[] GrayPng(int width, int height)
    {
        var rows = Enumerable.Range(0, height).Select(_ => Enumerable.Range(0, width).Select(x => (byte)(x * 255 / Math.Max(1, width - 1))).ToArray()).ToArray();
        return Png(width, height, 8, 0, rows);
    }

    /// <summary>An RGBA PNG, green everywhere, alpha 0 on the left half and 255 on the right.</summary>
    public static byte[] AlphaPng(int width, int height)
    {
        var rows = Enumerable.Range(0, height).Select(_ => Enumerable.Range(0, width)
            .SelectMany(x => new byte[] { 0, 200, 0, (byte)(x < width / 2 ? 0 : 255) }).ToArray()).ToArray();
        return Png(width, height, 8, 6, rows);
    }

    /// <summary>A 24-bit bottom-up BMP filled with one colour; <paramref name="declaredWidth"/> may lie about the size.</summary>
    public static byte[] Bmp(int width, int height, (byte R, byte G, byte B) color, int? declaredWidth = null, int? declaredHeight = null, bool withPixels = true)
    {
        int rowBytes = (width * 3 + 3) & ~3;
        int pixelBytes = withPixels ? rowBytes * height : 0;
        var b = new byte[54 + pixelBytes];
        b[0] = (byte)'B'; b[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(2), b.Length);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), declaredWidth ?? width);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), declaredHeight ?? height);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(34), pixelBytes);
        for (int y = 0; withPixels && y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int o = 54 + y * rowBytes + 3 * x;
                b[o] = color.B; b[o + 1] = color.G; b[o + 2] = color.R;
            }
        return b;
    }

    /// <summary>
    /// A baseline CMYK JPEG (Adobe APP14, inverted CMYK as Photoshop writes it), 16×16, one flat colour given as
    /// ink amounts 0..255. Every block holds only a DC coefficient, with quantisation 1 and tiny Huffman tables.
    /// </summary>
    public static byte[] CmykJpeg(byte c, byte m, byte y, byte k)
    {
        const int size = 16;
        using var ms = new MemoryStream();
        void Marker(byte code, byte[] payload)
        {
            ms.WriteByte(0xFF); ms.WriteByte(code);
            ms.WriteByte((byte)((payload.Length + 2) >> 8)); ms.WriteByte((byte)(payload.Length + 2));
            ms.Write(payload);
        }
        ms.Write([0xFF, 0xD8]);
        Marker(0xEE, [.. "Adobe"u8, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00]); // transform 0: CMYK as stored
        Marker(0xDB, [0x00, .. Enumerable.Repeat((byte)1, 64)]);
        Marker(0xC0, [8, 0, size, 0, size, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0]);
        // Stored (inverted) component values and their DC coefficients: DC = 8·(v − 128).
        byte[] stored = [(byte)(255 - c), (byte)(255 - m), (byte)(255 - y), (byte)(255 - k)];
        var dcs = stored.Select(v => 8 * (v - 128)).ToArray();
        var categories = dcs.Select(Category).Distinct().Where(cat => cat != 0).OrderBy(x => x).ToList();
        categories.Insert(0, 0);
        // DC table: every category gets a 3-bit code (at most 8 symbols, never all ones since ≤ 7 are used).
        var dcBits = new byte[16]; dcBits[2] = (byte)categories.Count;
        Marker(0xC4, [0x00, .. dcBits, .. categories.Select(x => (byte)x), 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]);
        Marker(0xDA, [4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0]);
        var bits = new List<bool>();
        void Put(int value, int count) { for (int i = count - 1; i >= 0; i--) bits.Add(((value >> i) & 1) != 0); }
        var previous = new int[4];
        for (int mcu = 0; mcu < (size / 8) * (size / 8); mcu++)
            for (int comp = 0; comp < 4; comp++)
            {
                int diff = dcs[comp] - previous[comp];
                previous[comp] = dcs[comp];
                int cat = Category(diff);
                Put(categories.IndexOf(cat), 3);
                if (cat > 0) Put(diff >= 0 ? diff : diff + (1 << cat) - 1, cat);
                Put(0, 1); // AC: end of block
            }
        while (bits.Count % 8 != 0) bits.Add(true);
        for (int i = 0; i < bits.Count; i += 8)
        {
            byte v = 0;
            for (int j = 0; j < 8; j++) v = (byte)(v << 1 | (bits[i + j] ? 1 : 0));
            ms.WriteByte(v);
            if (v == 0xFF) ms.WriteByte(0x00);
        }
        ms.Write([0xFF, 0xD9]);
        return ms.ToArray();
    }

    static int Category(int v)
    {
        v = Math.Abs(v);
        int n = 0;
        while (v > 0) { n++; v >>= 1; }
        return n;
    }

    /// <summary>Inserts an EXIF APP1 segment carrying <paramref name="orientation"/> right after a JPEG's SOI marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        // TIFF header (big-endian) with one IFD entry: tag 0x0112 Orientation, type SHORT, count 1.
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,
            0x00, 0x01,
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, (byte)(orientation >> 8), (byte)orientation, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00,
        ];
        byte[] payload = [.. "Exif"u8, 0, 0, .. tiff];
        int len = payload.Length + 2;
        return [0xFF, 0xD8, 0xFF, 0xE1, (byte)(len >> 8), (byte)len, .. payload, .. jpeg.AsSpan(2)];
    }
}
