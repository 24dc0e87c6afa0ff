using System.Globalization;

namespace TransferKit.Augment.Datasets;

/// <summary>
/// Images stored as CSV rows of pixel values followed by an integer label (e.g. scikit-learn's digits.csv.gz:
/// 64 values 0..16 then the label), gzipped or not. Values are scaled from [0, <c>maxValue</c>] to 0..255.
/// </summary>
public static class CsvPixelDataset
{
    /// <summary>
    /// Reads every non-empty row as width·height·channels values then the label. A header row (first row not
    /// numeric) is skipped. Errors name the file, line and column.
    /// </summary>
    public static RawPixelDataset Load(string path, int width, int height, int channels = 1, double maxValue = 255, ClassMap? classes = null)
    {
        if (width <= 0 || height <= 0 || channels is not (1 or 3)) throw new ArgumentException($"Bad CSV image shape {width}×{height}×{channels}.");
        if (!(maxValue > 0)) throw new ArgumentOutOfRangeException(nameof(maxValue), maxValue, "maxValue must be positive.");
        int n = width * height * channels;
        var pixels = new List<byte>();
        var labels = new List<int>();
        using var reader = new StreamReader(RawPixelDataset.OpenMaybeGzip(path));
        int lineNo = 0;
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = line.Split(',');
            if (lineNo == 1 && !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _)) continue;
            if (fields.Length != n + 1)
                throw new InvalidDataException($"CSV '{path}' line {lineNo} has {fields.Length} fields; expected {n} pixel values and a label.");
            for (int i = 0; i < n; i++)
            {
                if (!double.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v < 0 || v > maxValue)
                    throw new InvalidDataException($"CSV '{path}' line {lineNo} column {i + 1}: '{fields[i]}' is not a number in [0, {maxValue}].");
                pixels.Add((byte)Math.Round(v * 255.0 / maxValue));
            }
            if (!double.TryParse(fields[n], NumberStyles.Float, CultureInfo.InvariantCulture, out double label) || label < 0 || label != Math.Floor(label))
                throw new InvalidDataException($"CSV '{path}' line {lineNo}: label '{fields[n]}' is not a non-negative integer.");
            labels.Add((int)label);
        }
        classes ??= RawPixelDataset.DigitClasses(labels.Count == 0 ? 0 : labels.Max() + 1);
        return new RawPixelDataset(pixels.ToArray(), labels.ToArray(), width, height, channels, classes);
    }
}
