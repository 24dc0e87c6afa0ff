using System.Buffers.Binary;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Preview;
using TransferKit.Augment.Imaging;
using TransferKit.Augment.Transforms;
using TransferKit.Tests.Common;

namespace TransferKit.Augment.Tests;

public class DatasetTests
{
    [Fact]
    public void HymenopteraTrainAndValSplitsShareSortedClasses()
    {
        var split = ImageFolderDataset.Open(SharedAssets.Dataset("hymenoptera_data"));
        Assert.Equal(["ants", "bees"], split.Classes.Names);
        Assert.Equal(245, split.Train.Count);
        Assert.Equal(153, split.Validation.Count);
        Assert.Equal([124, 121], split.Train.CountPerClass());
        Assert.Equal([70, 83], split.Validation.CountPerClass());
        Assert.Same(split.Train.Classes, split.Validation.Classes);
    }

    [Fact]
    public void OneFolderIsSplitStratifiedAndSeeded()
    {
        var all = ImageFolderDataset.FromFolder(SharedAssets.Dataset("hymenoptera_data/train"));
        var a = all.Split(0.2, seed: 11);
        var b = all.Split(0.2, seed: 11);
        var c = all.Split(0.2, seed: 12);
        Assert.Equal([25, 24], a.Validation.CountPerClass()); // round(124·0.2), round(121·0.2)
        Assert.Equal(all.Count, a.Train.Count + a.Validation.Count);
        var trainFiles = Files(a.Train);
        var valFiles = Files(a.Validation);
        Assert.Empty(trainFiles.Intersect(valFiles));
        Assert.Equal(valFiles, Files(b.Validation));
        Assert.NotEqual(valFiles, Files(c.Validation));
    }

    static List<string> Files(ImageDataset d) => Enumerable.Range(0, d.Count).Select(d.Describe).ToList();

    [Fact]
    public void ClassIndicesFollowOrdinalOrderAndTheMapRoundTrips()
    {
        var root = TestImages.TempFolder("classes");
        try
        {
            foreach (var name in new[] { "b", "B", "a", "Z" })
                TestImages.WritePatternPng(Directory.CreateDirectory(Path.Combine(root, name)).FullName);
            File.WriteAllText(Path.Combine(root, "a", "notes.txt"), "ignored: not an image extension");
            var data = ImageFolderDataset.FromFolder(root);
            Assert.Equal(["B", "Z", "a", "b"], data.Classes.Names);
            Assert.Equal(4, data.Count);
            var mapPath = Path.Combine(root, "out", "classes.json");
            data.Classes.Save(mapPath);
            Assert.Equal(data.Classes.Names, ClassMap.Load(mapPath).Names);
            Assert.Single(Directory.GetFiles(Path.Combine(root, "out"))); // no temporary file left behind
            Assert.Throws<KeyNotFoundException>(() => data.Classes.IndexOf("c"));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void MnistIdxLoadsAndBecomesTensors()
    {
        var data = IdxDataset.Load(SharedAssets.Dataset("mnist/t10k-images-idx3-ubyte.gz"), SharedAssets.Dataset("mnist/t10k-labels-idx1-ubyte.gz"));
        Assert.Equal(10000, data.Count);
        Assert.Equal((28, 28, 1), (data.Width, data.Height, data.Channels));
        Assert.Equal(10, data.Classes.Count);
        Assert.Equal(7, data.GetLabel(0)); // the first MNIST test digit is a 7
        using var loader = new DataLoader(data.Take(64), Preprocessing.Mnist.EvaluationPipeline(), new DataLoaderOptions { BatchSize = 32, Shuffle = false, Threads = 2 });
        var batch = loader.Epoch(0).First();
        Assert.Equal(new[] { 32, 1, 28, 28 }, batch.Images.ShapeArray);
        float max = batch.Images.Span[..784].ToArray().Max();
        Assert.True(max > 0.9f && batch.Images.Span[0] == 0f, $"first digit max {max}");
    }

    [Fact]
    public void UncompressedIdxAndBadMagicAreHandled()
    {
        var dir = TestImages.TempFolder("idx");
        try
        {
            var images = new byte[16 + 2 * 3 * 2];
            BinaryPrimitives.WriteInt32BigEndian(images, 0x803);
            BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), 2);
            BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), 3);
            BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), 2);
            var labels = new byte[8 + 2];
            BinaryPrimitives.WriteInt32BigEndian(labels, 0x801);
            BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), 2);
            labels[9] = 4;
            File.WriteAllBytes(Path.Combine(dir, "i"), images);
            File.WriteAllBytes(Path.Combine(dir, "l"), labels);
            var d = IdxDataset.Load(Path.Combine(dir, "i"), Path.Combine(dir, "l"));
            Assert.Equal((2, 2, 3, 5), (d.Count, d.Width, d.Height, d.Classes.Count));
            var e = Assert.Throws<InvalidDataException>(() => IdxDataset.Load(Path.Combine(dir, "i"), Path.Combine(dir, "i")));
            Assert.Contains("0x00000801", e.Message);
            Assert.Contains(Path.Combine(dir, "i"), e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void SklearnDigitsCsvBecomesImagesOfAChosenSizeAndChannels()
    {
        var data = CsvPixelDataset.Load(SharedAssets.Dataset("sklearn-digits/digits.csv.gz"), 8, 8, 1, maxValue: 16);
        Assert.Equal(1797, data.Count);
        Assert.Equal(0, data.GetLabel(0));
        var rgb32 = new TransformPipeline(new Resize(32, 32));
        using var loader = new DataLoader(data.Take(10), rgb32, new DataLoaderOptions { BatchSize = 10, Shuffle = false, Threads = 1 });
        var batch = loader.Epoch(0).Single();
        Assert.Equal(new[] { 10, 3, 32, 32 }, batch.Images.ShapeArray);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], batch.LabelSpan.ToArray());
        float sum = 0;
        foreach (var v in batch.Images.Span) { Assert.InRange(v, 0f, 1f); sum += v; }
        Assert.True(sum > 0);
    }

    [Fact]
    public void CsvErrorsNameLineAndColumn()
    {
        var dir = TestImages.TempFolder("csv");
        try
        {
            var path = Path.Combine(dir, "bad.csv");
            File.WriteAllText(path, "0,1,2,3,1\n0,x,2,3,1\n");
            var e = Assert.Throws<InvalidDataException>(() => CsvPixelDataset.Load(path, 2, 2, 1, 16));
            Assert.Contains("line 2 column 2", e.Message);
            Assert.Contains(path, e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void PreviewGridIsDrawnWithoutCrashing()
    {
        var dir = TestImages.TempFolder("preview");
        try
        {
            var data = ImageFolderDataset.FromFolder(SharedAssets.Dataset("hymenoptera_data/train"));
            var output = Path.Combine(dir, "grid.png");
            var skipped = PreviewGrid.Render(data, TransformPipeline.Parse("RandomResizedCrop(64),RandomHorizontalFlip(),Normalize(imagenet)"), 1, 6, output);
            Assert.Empty(skipped);
            var header = ImageIO.ReadHeader(output);
            Assert.Equal((3 * 68 + 4, 2 * (64 + PreviewGrid.CaptionHeight + 4) + 4), (header.Width, header.Height));
        }
        finally { Directory.Delete(dir, true); }
    }
}
