using TransferKit.FineTune.Callbacks;
using TransferKit.FineTune.Training;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>The library entry point: it runs the command's engine (same files, same weights), resumes, and refuses what it cannot do.</summary>
[Collection("Console")]
public class LearnerTests
{
    static readonly Lazy<string> Data = new(() => MnistFolder.Create(40, 1, 4, 7));

    static string NewRunFolder() => Path.Combine(Directory.CreateTempSubdirectory("transferkit-learner-").FullName, "run");

    static Learner NewLearner(string run) => new(OnnxModel.Load(SharedAssets.Model("mnist-8.onnx")), ImageFolder.Load(Data.Value, Transforms.Light, seed: 2), run)
    {
        BatchSize = 8, LearningRate = 2e-3f, Threads = 2, CacheViews = 2, Log = TextWriter.Null,
    };

    [Fact]
    public void ModelAndFolderAreReadOnLoad()
    {
        var model = OnnxModel.Load(SharedAssets.Model("mnist-8.onnx"));
        Assert.Equal([1, 1, 28, 28], model.InputShape);
        Assert.Equal(5994, model.Parameters);
        var data = ImageFolder.Load(Data.Value);
        Assert.Equal(["1", "4", "7"], data.Classes);
        Assert.Equal(120, data.TrainCount + data.ValidationCount);
        Assert.Null(data.ValidationFolder);
        Assert.Equal("auto", data.Transforms.Spec);
        Assert.Throws<FileNotFoundException>(() => OnnxModel.Load(Path.Combine(Data.Value, "missing.onnx")));
        Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load(Path.Combine(Data.Value, "missing")));
        Assert.Contains("--val-split 1.5", Assert.Throws<ArgumentException>(() => ImageFolder.Load(Data.Value, valSplit: 1.5)).Message);
        Assert.ThrowsAny<FormatException>(() => Transforms.Parse("NotATransform(3)"));
        Assert.Equal("light", Transforms.Parse(" Light ").Spec);
    }

    [Fact]
    public void FitWritesWhatTheCommandWritesForTheSameOptions()
    {
        var viaApi = NewRunFolder();
        var learner = NewLearner(viaApi);
        var seen = new List<int>();
        var fit = learner.Fit(epochs: 2, callbacks: [new LambdaCallback(onEpochEnd: c => seen.Add(c.Epoch))]);
        Assert.Equal([1, 2], seen);
        Assert.Equal(2, fit.EpochsRun);
        Assert.Equal(Path.Combine(viaApi, "tuned.onnx"), learner.TunedModel);

        var viaCli = NewRunFolder();
        var o = learner.ToOptions(2);
        var r = CliTests.Run("finetune", "--model", o.Model, "--data", o.Data, "--out", viaCli, "--epochs", "2", "--batch", "8", "--lr", "0.002",
            "--threads", "2", "--cache-views", "2", "--augment", "light", "--seed", "2");
        Assert.True(r.Code == 0, $"exit {r.Code}\n{r.Out}\n{r.Err}");
        RunFiles.AssertSameRun(viaCli, viaApi);

        var exported = learner.Export(Path.Combine(Path.GetDirectoryName(viaApi)!, "out", "model.onnx"));
        Assert.Equal(File.ReadAllBytes(learner.TunedModel), File.ReadAllBytes(exported));
        // The data has no val/ folder: its validation images are a split, so Evaluate needs a folder named.
        Assert.Throws<InvalidOperationException>(() => learner.Evaluate());
        var result = learner.Evaluate(Data.Value);
        Assert.Equal(120, result.Images);
        Assert.True(result.Accuracy > 0.5, $"accuracy {result.Accuracy}");
    }

    [Fact]
    public void AFitStoppedByACallbackResumesToTheWeightsOfAnUninterruptedFit()
    {
        var straight = NewRunFolder();
        NewLearner(straight).Fit(epochs: 3);
        var stopped = NewRunFolder();
        var learner = NewLearner(stopped);
        var first = learner.Fit(epochs: 3, callbacks: [new LambdaCallback(onEpochEnd: c => { if (c.Epoch == 1) c.StopTraining("paused"); })]);
        Assert.Equal(1, first.EpochsRun);
        var resumed = learner.Resume();
        Assert.Equal(3, resumed.EpochsRun);
        RunFiles.AssertSameRun(straight, stopped);
    }

    [Fact]
    public void UnfreezeAndFineTuneChooseTheRecipesAndNothingFittedIsRefused()
    {
        var learner = NewLearner(NewRunFolder());
        Assert.Equal("head", learner.ToOptions(1).Recipe);
        learner.Unfreeze();
        Assert.Equal("full", learner.ToOptions(1).Recipe);
        learner.Freeze();
        Assert.Equal("head", learner.ToOptions(1).Recipe);
        Assert.Throws<InvalidOperationException>(() => learner.TunedModel);
        Assert.Throws<InvalidOperationException>(() => learner.Export("x.onnx"));
        var fit = learner.FineTune(2);
        Assert.Equal("two-phase", fit.Recipe);
        Assert.Equal(2, fit.EpochsRun);
        OptionLimits.Check(learner.ToOptions(2));
    }
}
