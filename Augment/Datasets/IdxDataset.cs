using System.Buffers.Binary;

namespace TransferKit.Augment.Datasets;

/// <summary>
/// MNIST-style IDX files, gzipped or not: images with magic 0x00000803 (count, rows, cols, then uint8 pixels)
/// and labels with magic 0x00000801 (count, then uint8 labels).
/// </summary>
public static class IdxDataset
{
    /// <summary>Reads an image file and a label file; class names are "0".."max label" unless given.</summary>
    public static RawPixelDataset Load(string imagesPath, string labelsPath, ClassMap? classes = null)
    {
        byte[] images, labels;
        int count, rows, cols;
        using (var s = RawPixelDataset.OpenMaybeGzip(imagesPath))
        {
            var header = ReadExactly(s, 16, imagesPath);
            int magic = BinaryPrimitives.ReadInt32BigEndian(header);
            if (magic != 0x00000803)
                throw new InvalidDataException($"IDX image file '{imagesPath}' has magic 0x{magic:X8}; expected 0x00000803 (uint8, 3 dimensions).");
            count = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
            rows = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8));
            cols = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(12));
            if (count < 0 || rows <= 0 || cols <= 0 || rows > 4096 || cols > 4096 || (long)count * rows * cols > int.MaxValue)
                throw new InvalidDataException($"IDX image file '{imagesPath}' declares an implausible shape {count}×{rows}×{cols}.");
            images = ReadExactly(s, count * rows * cols, imagesPath);
        }
        using (var s = RawPixelDataset.OpenMaybeGzip(labelsPath))
        {
            var header = ReadExactly(s, 8, labelsPath);
            int magic = BinaryPrimitives.ReadInt32BigEndian(header);
            if (magic != 0x00000801)
                throw new InvalidDataException($"IDX label file '{labelsPath}' has magic 0x{magic:X8}; expected 0x00000801 (uint8, 1 dimension).");
            int n = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
            if (n != count)
                throw new InvalidDataException($"IDX label file '{labelsPath}' has {n} labels but '{imagesPath}' has {count} images.");
            labels = ReadExactly(s, n, labelsPath);
        }
        var labelInts = labels.Select(b => (int)b).ToArray();
        classes ??= RawPixelDataset.DigitClasses(labelInts.Length == 0 ? 0 : labelInts.Max() + 1);
        return new RawPixelDataset(images, labelInts, cols, rows, 1, classes);
    }

    static byte[] ReadExactly(Stream s, int count, string path)
    {
        var buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = s.Read(buffer, read, count - read);
            if (n == 0) throw new InvalidDataException($"IDX file '{path}' is truncated: expected {count} more bytes, got {read}.");
            read += n;
        }
        return buffer;
    }
}
