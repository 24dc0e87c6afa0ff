using System.Numerics;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Imaging;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Random;
using TransferKit.Augment.Transforms;

namespace TransferKit.Augment.Tests;

public sealed class TransformTests : IDisposable
{
    /// <summary>Exact-sample operations (flips, identity rotations) may differ by float rounding only.</summary>
    const float ExactTolerance = 1e-6f;

    /// <summary>A 360° rotation resamples at positions off by float error; allowed per-value difference.</summary>
    const float FullTurnTolerance = 2f / 255f;

    /// <summary>Slack for the integer rounding of crop sides when checking area and aspect ranges.</summary>
    const double CropRoundingSlack = 0.02;

    readonly string _dir = TestImages.TempFolder("transforms");
    readonly string _input;
    readonly SampleProcessor _processor = new();

    public TransformTests() => _input = TestImages.WritePatternPng(_dir);

    public void Dispose()
    {
        _processor.Dispose();
        Directory.Delete(_dir, true);
    }

    float[] Run(string spec, ulong seed = 1, long index = 0, string? input = null) =>
        _processor.Process(SampleSource.File(input ?? _input), TransformPipeline.Parse(spec), seed, 0, index).Pixels.ToArray();

    static float MaxDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        float m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    static float[] MirrorX(float[] chw, int c, int h, int w)
    {
        var r = new float[chw.Length];
        for (int k = 0; k < c; k++) for (int y = 0; y < h; y++) for (int x = 0; x < w; x++)
            r[(k * h + y) * w + x] = chw[(k * h + y) * w + (w - 1 - x)];
        return r;
    }

    static float[] MirrorY(float[] chw, int c, int h, int w)
    {
        var r = new float[chw.Length];
        for (int k = 0; k < c; k++) for (int y = 0; y < h; y++) for (int x = 0; x < w; x++)
            r[(k * h + y) * w + x] = chw[(k * h + (h - 1 - y)) * w + x];
        return r;
    }

    static float[] Block(float[] chw, int c, int h, int w, int top, int left, int bh, int bw)
    {
        var r = new float[c * bh * bw];
        for (int k = 0; k < c; k++) for (int y = 0; y < bh; y++) for (int x = 0; x < bw; x++)
            r[(k * bh + y) * bw + x] = chw[(k * h + top + y) * w + left + x];
        return r;
    }

    [Theory]
    [InlineData(CropAnchor.TopLeft, 0, 0)]
    [InlineData(CropAnchor.TopRight, 0, 32 - 10)]
    [InlineData(CropAnchor.BottomLeft, 24 - 10, 0)]
    [InlineData(CropAnchor.BottomRight, 24 - 10, 32 - 10)]
    [InlineData(CropAnchor.Center, 7, 11)]
    public void AnchoredCropTakesItsCornerOrTheCentre(CropAnchor anchor, int top, int left)
    {
        // The 32×24 pattern cut at each of FiveCrop's anchors is exactly that block of the uncropped image; the centre
        // is where CenterCrop puts it.
        var id = Run("");
        var crop = _processor.Process(SampleSource.File(_input), new TransformPipeline(new AnchoredCrop(10, anchor)), 1, 0, 0).Pixels.ToArray();
        Assert.True(MaxDiff(Block(id, 3, 24, 32, top, left, 10, 10), crop) <= ExactTolerance);
        if (anchor == CropAnchor.Center) Assert.True(MaxDiff(Run("CenterCrop(10)"), crop) <= ExactTolerance);
    }

    [Fact]
    public void TestTimeViewsAreTenCropsOrTheViewAndItsMirror()
    {
        var resizing = TransferKit.Augment.Presets.Preprocessing.TorchvisionImageNet;
        Assert.Equal(10, resizing.TestTimePipelines().Count);
        Assert.Equal(resizing.EvaluationPipeline().ToString(), resizing.TestTimePipelines()[0].ToString());
        Assert.Equal(10, resizing.TestTimePipelines().Select(p => p.ToString()).Distinct().Count());
        var exact = resizing with { ResizeShorterSide = 0 };
        Assert.Equal(2, exact.TestTimePipelines().Count);
        Assert.Equal(exact.EvaluationPipeline().ToString(), exact.TestTimePipelines()[0].ToString());
    }

    [Fact]
    public void FlipsWithPZeroNeverChangeAndWithPOneAlwaysMirror()
    {
        var id = Run("");
        for (ulong seed = 0; seed < 20; seed++)
        {
            Assert.True(MaxDiff(id, Run("RandomHorizontalFlip(0),RandomVerticalFlip(0)", seed)) <= ExactTolerance);
            Assert.True(MaxDiff(MirrorX(id, 3, 24, 32), Run("RandomHorizontalFlip(1)", seed)) <= ExactTolerance);
            Assert.True(MaxDiff(MirrorY(id, 3, 24, 32), Run("RandomVerticalFlip(p=1)", seed)) <= ExactTolerance);
        }
    }

    [Fact]
    public void FlipWithPHalfFlipsAboutHalfTheSamples()
    {
        var id = Run("");
        int flipped = 0;
        const int n = 200;
        for (int i = 0; i < n; i++) if (MaxDiff(id, Run("RandomHorizontalFlip(0.5)", 3, i)) > ExactTolerance) flipped++;
        Assert.InRange(flipped, n * 0.35, n * 0.65);
    }

    [Fact]
    public void RotationByZeroAndFullTurnsIsIdentity()
    {
        var id = Run("");
        Assert.True(MaxDiff(id, Run("RandomRotation(0)")) <= ExactTolerance);
        Assert.True(MaxDiff(id, Run("RandomRotation((360,360))")) <= FullTurnTolerance);
        Assert.True(MaxDiff(id, Run("RandomRotation((-360,-360))")) <= FullTurnTolerance);
        Assert.True(MaxDiff(id, Run("RandomAffine(0)")) <= ExactTolerance);
        // And an actual rotation does change the image, so the checks above can fail.
        Assert.True(MaxDiff(id, Run("RandomRotation((10,10))")) > 0.1f);
    }

    [Fact]
    public void RotationIsCounterClockwise()
    {
        // Square input: the white top-left marker goes to the bottom-left after a 90° counter-clockwise turn.
        var square = TestImages.WritePatternPng(_dir, "square.png", 24, 24);
        var img = Run("RandomRotation((90,90))", input: square);
        int plane = 24 * 24;
        float At(int x, int y) => Math.Min(img[y * 24 + x], Math.Min(img[plane + y * 24 + x], img[2 * plane + y * 24 + x]));
        Assert.True(At(1, 22) > 0.9f, $"bottom-left {At(1, 22)}");
        Assert.True(At(1, 1) < 0.9f, $"top-left {At(1, 1)}");
    }

    [Theory]
    [InlineData(0.08, 1.0, 0.75, 4.0 / 3)]
    [InlineData(0.5, 0.5, 1.0, 1.0)]
    [InlineData(1.0, 1.0, 0.5, 2.0)]
    [InlineData(0.01, 0.02, 0.2, 5.0)]
    public void RandomResizedCropStaysInsideItsRanges(double smin, double smax, double rmin, double rmax)
    {
        var t = new RandomResizedCrop(8, (smin, smax), (rmin, rmax));
        const int w = 500, h = 375;
        int fallbacks = 0;
        for (int i = 0; i < 2000; i++)
        {
            var rng = new CounterRng(9, 0, i, 0);
            var (top, left, ch, cw) = t.SampleCrop(w, h, ref rng);
            Assert.InRange(top, 0, h - ch);
            Assert.InRange(left, 0, w - cw);
            Assert.True(ch > 0 && cw > 0);
            double area = (double)ch * cw / (w * h), ratio = (double)cw / ch;
            bool inRange = area >= smin * (1 - CropRoundingSlack) - 1e-3 && area <= smax * (1 + CropRoundingSlack) + 1e-3
                && ratio >= rmin * (1 - CropRoundingSlack) && ratio <= rmax * (1 + CropRoundingSlack);
            if (!inRange) fallbacks++;
        }
        // Only the ten-attempt fallback may leave the ranges, and it is rare for these ranges.
        Assert.True(fallbacks < 2000 * 0.05, $"{fallbacks} crops outside the ranges");
    }

    [Fact]
    public void RandomResizedCropFallsBackToACentralCropClampedToTheRatio()
    {
        var t = new RandomResizedCrop(8, (5.0, 6.0)); // an area above 1 never fits: always the fallback
        var rng = new CounterRng(1, 0, 0, 0);
        Assert.Equal((0, 183, 100, 133), t.SampleCrop(500, 100, ref rng)); // too wide: clamp to 4/3
        Assert.Equal((183, 0, 133, 100), t.SampleCrop(100, 500, ref rng)); // too tall: clamp to 3/4
        Assert.Equal((0, 0, 300, 300), t.SampleCrop(300, 300, ref rng));   // in range: whole image
    }

    [Fact]
    public void InvalidParametersAreRefusedWithTheirValues()
    {
        Assert.Contains("0.5", Assert.ThrowsAny<ArgumentException>(() => new RandomResizedCrop(8, (0.5, 0.1))).Message);
        Assert.ThrowsAny<ArgumentException>(() => new RandomResizedCrop(8, ratio: (0, 1)));
        Assert.ThrowsAny<ArgumentException>(() => new RandomResizedCrop(0));
        Assert.ThrowsAny<ArgumentException>(() => new RandomHorizontalFlip(1.5));
        Assert.ThrowsAny<ArgumentException>(() => new RandomVerticalFlip(-0.1));
        Assert.ThrowsAny<ArgumentException>(() => new ColorJitter(hue: 0.6));
        Assert.ThrowsAny<ArgumentException>(() => new ColorJitter(brightness: -1));
        Assert.ThrowsAny<ArgumentException>(() => new RandomRotation(-5));
        Assert.ThrowsAny<ArgumentException>(() => new RandomRotation(10, -10));
        Assert.ThrowsAny<ArgumentException>(() => new RandomErasing(scale: (0.5, 0.2)));
        Assert.ThrowsAny<ArgumentException>(() => new Normalize([0.5f], [0f]));
        Assert.ThrowsAny<ArgumentException>(() => new RandomAffine(5, shear: [1, 2, 3]));
        Assert.ThrowsAny<ArgumentException>(() => new TransformPipeline(new Normalize([0f], [1f]), new RandomHorizontalFlip()));
    }

    [Fact]
    public void ColorJitterWithZeroParametersChangesNothing()
    {
        Assert.True(MaxDiff(Run(""), Run("ColorJitter(0,0,0,0)")) <= ExactTolerance);
        Assert.True(MaxDiff(Run(""), Run("ColorJitter(0.4,0.4,0.4,0.1)")) > 0.01f);
    }

    [Fact]
    public void BrightnessContrastSaturationFollowTorchvisionFormulas()
    {
        var buf = new SampleBuffer();
        buf.Reset(3, 1, 2);
        float[] px = [0.2f, 0.8f, 0.4f, 0.6f, 0.9f, 0.1f]; // R plane, G plane, B plane
        px.CopyTo(buf.Pixels);
        ColorJitter.AdjustBrightness(buf, 2f);
        Assert.Equal([0.4f, 1f, 0.8f, 1f, 1f, 0.2f], buf.Pixels.ToArray()); // scaled and clamped

        px.CopyTo(buf.Pixels);
        ColorJitter.AdjustContrast(buf, 0.5f);
        float mean = (0.2989f * (0.2f + 0.8f) + 0.587f * (0.4f + 0.6f) + 0.114f * (0.9f + 0.1f)) / 2;
        for (int i = 0; i < 6; i++) Assert.Equal(0.5f * px[i] + 0.5f * mean, buf.Pixels[i], 5);

        px.CopyTo(buf.Pixels);
        ColorJitter.AdjustSaturation(buf, 0f);
        for (int p = 0; p < 2; p++)
        {
            float gray = 0.2989f * px[p] + 0.587f * px[2 + p] + 0.114f * px[4 + p];
            for (int c = 0; c < 3; c++) Assert.Equal(gray, buf.Pixels[c * 2 + p], 5);
        }
    }

    [Fact]
    public void HueShiftTurnsPrimariesAndVectorPathMatchesScalar()
    {
        var (r, g, b) = ColorJitter.HueScalar(1f, 0f, 0f, 1f / 3);
        Assert.Equal((0f, 1f, 0f), (MathF.Round(r, 5), MathF.Round(g, 5), MathF.Round(b, 5)));
        (r, g, b) = ColorJitter.HueScalar(0.5f, 0.5f, 0.5f, 0.25f);
        Assert.Equal((0.5f, 0.5f, 0.5f), (r, g, b)); // gray has no hue
        // Every remainder length around two vector widths: vector lanes and scalar tail agree.
        var random = new CounterRng(3, 0, 0, 0);
        for (int n = 0; n <= 2 * Vector<float>.Count + 3; n++)
        {
            var buf = new SampleBuffer();
            buf.Reset(3, 1, n);
            for (int i = 0; i < 3 * n; i++) buf.Pixels[i] = (float)random.NextDouble();
            if (n > 0) { buf.Plane(0)[0] = buf.Plane(1)[0] = buf.Plane(2)[0] = 0.3f; } // a gray pixel
            var before = buf.Pixels.ToArray();
            ColorJitter.AdjustHue(buf, 0.137f);
            for (int i = 0; i < n; i++)
            {
                var e = ColorJitter.HueScalar(before[i], before[n + i], before[2 * n + i], 0.137f);
                Assert.Equal(e.R, buf.Plane(0)[i], 5);
                Assert.Equal(e.G, buf.Plane(1)[i], 5);
                Assert.Equal(e.B, buf.Plane(2)[i], 5);
            }
        }
    }

    [Fact]
    public void RandomGrayscaleAndErasingRespectP()
    {
        var id = Run("");
        Assert.True(MaxDiff(id, Run("RandomGrayscale(0),RandomErasing(0)")) <= ExactTolerance);
        var gray = Run("RandomGrayscale(1)");
        int plane = 32 * 24;
        for (int i = 0; i < plane; i++) { Assert.Equal(gray[i], gray[plane + i]); Assert.Equal(gray[i], gray[2 * plane + i]); }
        int erased = 0;
        for (int i = 0; i < 50; i++)
        {
            var img = Run("RandomErasing(1,scale=(0.1,0.2),value=(7,8,9))", 5, i);
            int count = img.Take(plane).Count(v => v == 7f);
            Assert.Equal(count, img.Skip(plane).Take(plane).Count(v => v == 8f));
            if (count > 0) { erased++; Assert.InRange(count, plane * 0.1 * 0.7, plane * 0.2 * 1.3); }
        }
        Assert.True(erased >= 45, $"only {erased} of 50 erased with p = 1");
    }

    [Fact]
    public void NormalizeAppliesCaffeConvention()
    {
        var img = Run("");
        var caffe = Run("Normalize(caffe-imagenet)");
        int plane = 32 * 24;
        for (int i = 0; i < plane; i += 37)
        {
            Assert.Equal(img[2 * plane + i] * 255f - 104f, caffe[i], 3);          // B first
            Assert.Equal(img[plane + i] * 255f - 117f, caffe[plane + i], 3);
            Assert.Equal(img[i] * 255f - 123f, caffe[2 * plane + i], 3);          // R last
        }
        var tv = Run("Normalize(imagenet)");
        Assert.Equal((img[5] - 0.485f) / 0.229f, tv[5], 4);
    }

    /// <summary>Allowed difference (0..1) between a mipmapped downscale by an exact power of two and the block average (byte rounding of each level).</summary>
    const float PowerOfTwoDownscaleTolerance = 1.5f / 255f;

    /// <summary>How far from mid-grey a 1-pixel checkerboard may come out after a 3× downscale (unfiltered bilinear would give 0 or 1).</summary>
    const float AliasTolerance = 0.1f;

    [Fact]
    public void MipmappedDownscaleByFourIsTheBlockAverage()
    {
        const int w = 64, h = 48, f = 4;
        var pixels = new byte[3 * w * h];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)((i * 37 + (i / (3 * w)) * 11) % 256);
        using var source = SourceImage.FromPixels(pixels, w, h, 3);
        var output = new float[3 * (w / f) * (h / f)];
        new Resampler().Render(source, Affine2D.Scale(f, f), w / f, h / f, output);
        int plane = (w / f) * (h / f);
        for (int c = 0; c < 3; c++)
        for (int y = 0; y < h / f; y++)
        for (int x = 0; x < w / f; x++)
        {
            double sum = 0;
            for (int dy = 0; dy < f; dy++) for (int dx = 0; dx < f; dx++) sum += pixels[3 * ((y * f + dy) * w + x * f + dx) + c];
            float expected = (float)(sum / (f * f) / 255);
            float actual = output[c * plane + y * (w / f) + x];
            Assert.True(Math.Abs(actual - expected) <= PowerOfTwoDownscaleTolerance, $"channel {c} ({x},{y}): {actual} vs {expected}");
        }
    }

    /// <summary>
    /// The AVX2 path of the resampler equals the scalar reference bit for bit, for maps that shrink (mipmaps), enlarge,
    /// rotate and cross the source's edges, at output widths 1..19 (every remainder of the 8-pixel blocks).
    /// </summary>
    [Fact]
    public void VectorResamplerEqualsTheScalarReference()
    {
        const int w = 57, h = 41;
        var pixels = new byte[3 * w * h];
        var rng = new CounterRng(9, 0, 0, 0);
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(rng.NextUInt64() >> 56);
        using var source = SourceImage.FromPixels(pixels, w, h, 3);
        var maps = new[]
        {
            Affine2D.Identity,
            Affine2D.Scale(2.7, 2.2),
            Affine2D.Translation(3.3, 1.7) * Affine2D.Scale(0.6, 0.8),
            Affine2D.Translation(28, 20) * Affine2D.Rotation(33) * Affine2D.Translation(-8, -8),
            Affine2D.Translation(-5, -3) * Affine2D.Scale(1.1, 1.1),
        };
        bool saved = Resampler.UseVector;
        try
        {
            foreach (var map in maps)
            for (int width = 1; width <= 19; width++)
            {
                const int height = 9;
                var vector = new float[3 * width * height];
                var scalar = new float[3 * width * height];
                Resampler.UseVector = true;
                new Resampler().Render(source, map, width, height, vector);
                Resampler.UseVector = false;
                new Resampler().Render(source, map, width, height, scalar);
                Assert.True(vector.AsSpan().SequenceEqual(scalar), $"map {map}, width {width}");
            }
        }
        finally { Resampler.UseVector = saved; }
    }

    [Fact]
    public void StrongDownscaleDoesNotAlias()
    {
        const int w = 96, h = 96;
        var pixels = new byte[w * h];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) pixels[y * w + x] = (byte)((x + y) % 2 == 0 ? 255 : 0);
        using var source = SourceImage.FromPixels(pixels, w, h, 1);
        var output = new float[3 * 32 * 32];
        new Resampler().Render(source, Affine2D.Scale(3, 3), 32, 32, output);
        Assert.All(output, v => Assert.InRange(v, 0.5f - AliasTolerance, 0.5f + AliasTolerance));
    }

    [Fact]
    public void CounterRngIsAPureFunctionOfItsKey()
    {
        var a = new CounterRng(1, 2, 3, 4);
        var b = new CounterRng(1, 2, 3, 4);
        var c = new CounterRng(1, 2, 3, 5);
        var d = new CounterRng(1, 3, 3, 4);
        for (int i = 0; i < 100; i++)
        {
            ulong x = a.NextUInt64();
            Assert.Equal(x, b.NextUInt64());
            Assert.NotEqual(x, c.NextUInt64());
            Assert.NotEqual(x, d.NextUInt64());
        }
        var u = new CounterRng(7, 0, 0, 0);
        double sum = 0;
        for (int i = 0; i < 10000; i++) { double v = u.NextDouble(); Assert.InRange(v, 0, 1); sum += v; }
        Assert.InRange(sum / 10000, 0.48, 0.52);
    }
}
