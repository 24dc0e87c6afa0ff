using System.Runtime.CompilerServices;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Imaging;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Transforms;

namespace TransferKit.Augment.Tests;

/// <summary>
/// Each transform applied to the synthetic 32×24 pattern (written as PNG and decoded) with a fixed seed, compared
/// with a committed PNG under Golden/. Set TRANSFERKIT_REGENERATE_GOLDEN=1 to rewrite the files from this code.
/// </summary>
public class GoldenTests
{
    public const string RegenerateVariable = "TRANSFERKIT_REGENERATE_GOLDEN";

    /// <summary>A value (0..1) further than this from the golden counts as a mismatch (resampler rounding differs by CPU).</summary>
    const float ValueTolerance = 12f / 255f;

    /// <summary>Fraction of values allowed to exceed <see cref="ValueTolerance"/> (edge pixels of rotated content).</summary>
    const double MismatchFractionAllowed = 0.02;

    /// <summary>Mean absolute difference allowed over the whole image.</summary>
    const double MeanTolerance = 1.5 / 255;

    const ulong Seed = 1234;

    public static TheoryData<string, string> Cases => new()
    {
        { "identity", "" },
        { "resize-shorter", "Resize(12)" },
        { "resize-exact", "Resize((20,40))" },
        { "center-crop", "CenterCrop(16)" },
        { "center-crop-padded", "CenterCrop((30,40))" },
        { "random-resized-crop", "RandomResizedCrop(16)" },
        { "random-horizontal-flip", "RandomHorizontalFlip(1)" },
        { "random-vertical-flip", "RandomVerticalFlip(1)" },
        { "random-rotation", "RandomRotation((30,30))" },
        { "random-affine", "RandomAffine(10,translate=(0.1,0.1),scale=(0.8,1.2),shear=10)" },
        { "color-jitter", "ColorJitter(0.4,0.4,0.4,0.1)" },
        { "random-grayscale", "RandomGrayscale(1)" },
        { "random-erasing", "RandomErasing(1,value=0.5)" },
        { "normalize", "Normalize(mean=(0,-0.2,0),std=(2,2,4))" },
        { "composed", "RandomResizedCrop(20,scale=(0.5,1)),RandomHorizontalFlip(0.5),RandomRotation(20),ColorJitter(0.2,0.2,0.2,0.05)" },
    };

    static string GoldenFolder([CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "Golden");

    [Theory]
    [MemberData(nameof(Cases))]
    public void TransformMatchesGolden(string name, string spec)
    {
        var dir = TestImages.TempFolder("golden");
        try
        {
            var input = TestImages.WritePatternPng(dir);
            using var processor = new SampleProcessor();
            var output = processor.Process(SampleSource.File(input), TransformPipeline.Parse(spec), Seed, 0, 0);
            var golden = Path.Combine(GoldenFolder(), name + ".png");
            if (Environment.GetEnvironmentVariable(RegenerateVariable) == "1")
                ImageIO.SavePng(output.Pixels, output.Channels, output.Height, output.Width, golden);
            Assert.True(File.Exists(golden), $"Golden file '{golden}' is missing; run the tests once with {RegenerateVariable}=1 to create it.");
            var expected = ImageIO.Load(golden);
            Assert.Equal((expected.Width, expected.Height), (output.Width, output.Height));
            Compare(expected.Pixels, output.Pixels, name);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>The tolerant comparison: 8-bit quantised output against the golden, both in [0, 1].</summary>
    static void Compare(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string name)
    {
        Assert.Equal(expected.Length, actual.Length);
        int mismatches = 0;
        double sum = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float a = Math.Clamp(MathF.Round(actual[i] * 255f) / 255f, 0f, 1f);
            float d = Math.Abs(a - expected[i]);
            sum += d;
            if (d > ValueTolerance) mismatches++;
        }
        double mean = sum / expected.Length;
        Assert.True(mismatches <= MismatchFractionAllowed * expected.Length, $"{name}: {mismatches} of {expected.Length} values differ by more than {ValueTolerance}");
        Assert.True(mean <= MeanTolerance, $"{name}: mean difference {mean:F5} > {MeanTolerance:F5}");
    }

    [Fact]
    public void ComparerRejectsADifferentImage()
    {
        var a = TestImages.Pattern();
        var b = (float[])a.Clone();
        for (int i = 0; i < b.Length; i += 7) b[i] = 1 - b[i];
        Assert.ThrowsAny<Exception>(() => Compare(a, b, "perturbed"));
    }
}
