using TransferKit.FineTune.Heads;
using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests.Tuning;

/// <summary>What tuning needs from the fine-tune job: a per-epoch hook that can end a run, and a weight decay that acts.</summary>
public class JobHookTests
{
    static FineTuneOptions Small(string output) => new()
    {
        Model = SharedAssets.Model("mnist-8.onnx"), Data = SharedAssets.Dataset("fashion-mnist"), Out = output,
        LimitTrain = 300, LimitVal = 100, Augment = "none", Batch = 32, Lr = 0.05f, WeightDecay = 0,
    };

    [Fact]
    public void ContinueAfterEpochEndsATwoPhaseRunAndStillExports()
    {
        var output = Directory.CreateTempSubdirectory("transferkit-hook-").FullName;
        var seen = new List<int>();
        var summary = new FineTuneJob(Small(output) with { Recipe = "two-phase", Epochs = 4 }, TextWriter.Null)
        {
            ContinueAfterEpoch = m => { seen.Add(m.Epoch); return m.Epoch < 2; },
        }.Run();
        // Epoch 1 (head phase) goes on, epoch 2 (still head) stops: the full phase never starts.
        Assert.Equal([1, 2], seen);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(output, "metrics.csv")).Length);
        Assert.InRange(summary.BestEpoch, 1, 2);
        Assert.True(File.Exists(summary.TunedModel));
    }

    /// <summary>Head weight norms after one epoch with a strong weight decay, as a fraction of those without: decay must shrink them well below this.</summary>
    const double DecayedNormRatio = 0.5;

    [Fact]
    public void WeightDecayReachesTheOptimizer()
    {
        double HeadNorm(float weightDecay)
        {
            var output = Directory.CreateTempSubdirectory("transferkit-wd-").FullName;
            var summary = new FineTuneJob(Small(output) with { Epochs = 1, WeightDecay = weightDecay }, TextWriter.Null).Run();
            var tuned = OnnxImporter.Import(summary.TunedModel);
            var w = Head.Find(tuned.Graph).Weight.Value.Span.ToArray();
            return Math.Sqrt(w.Sum(x => (double)x * x));
        }
        double plain = HeadNorm(0), decayed = HeadNorm(5);
        Assert.True(decayed < DecayedNormRatio * plain, $"head weight norm {decayed:G4} with weight decay 5, {plain:G4} without");
    }
}
