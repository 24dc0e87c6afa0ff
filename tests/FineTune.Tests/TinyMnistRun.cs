using TransferKit.Augment.Datasets;
using TransferKit.Augment.Imaging;
using TransferKit.FineTune.Training;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// A tiny fine-tune made once per test class: MNIST test digits 0, 1 and 2 written as PNGs into train/ (30 each) and
/// val/ (10 each), and mnist-8 given a new 3-class head for two epochs (about a second). The run folder holds
/// tuned.onnx (with labels and preprocessing metadata) and report.html.
/// </summary>
public sealed class TinyMnistRun : IDisposable
{
    public const int Classes = 3, TrainPerClass = 30, ValPerClass = 10;

    public TinyMnistRun()
    {
        Root = Directory.CreateTempSubdirectory("transferkit-tiny-mnist-").FullName;
        Data = Path.Combine(Root, "data");
        Run = Path.Combine(Root, "run");
        var mnist = IdxDataset.Load(SharedAssets.Dataset("mnist/t10k-images-idx3-ubyte.gz"), SharedAssets.Dataset("mnist/t10k-labels-idx1-ubyte.gz"));
        var written = new int[Classes];
        for (int i = 0; i < mnist.Count && written.Any(n => n < TrainPerClass + ValPerClass); i++)
        {
            int label = mnist.GetLabel(i);
            if (label >= Classes || written[label] >= TrainPerClass + ValPerClass) continue;
            var split = written[label]++ < TrainPerClass ? "train" : "val";
            var source = mnist.GetSource(i);
            var pixels = source.Pixels.Span.ToArray().Select(b => b / 255f).ToArray();
            ImageIO.SavePng(pixels, 1, source.Height, source.Width, Path.Combine(Data, split, mnist.Classes[label], $"{i:D5}.png"));
        }
        Log = new StringWriter();
        Summary = new FineTuneJob(new FineTuneOptions
        {
            Model = SharedAssets.Model("mnist-8.onnx"), Data = Data, Out = Run, Epochs = 2, Batch = 8, Lr = 2e-3f, Augment = "light", Threads = 2,
        }, Log).Run();
    }

    public string Root { get; }
    /// <summary>The data folder (train/ and val/, each with class folders 0, 1, 2).</summary>
    public string Data { get; }
    public string Run { get; }
    public string Tuned => Path.Combine(Run, "tuned.onnx");
    public StringWriter Log { get; }
    public FineTuneSummary Summary { get; }

    /// <summary>Validation images of one class.</summary>
    public string[] ValImages(string cls) => Directory.GetFiles(Path.Combine(Data, "val", cls), "*.png").Order(StringComparer.Ordinal).ToArray();

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
