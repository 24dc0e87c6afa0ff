using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Tests;

public class AugmentChoiceTests
{
    static FineTuneOptions Options(string recipe, string? augment = null) =>
        augment == null ? new() { Model = "m.onnx", Data = "d", Out = "o", Recipe = recipe }
                        : new() { Model = "m.onnx", Data = "d", Out = "o", Recipe = recipe, Augment = augment };

    [Fact]
    public void AutoIsLightForTheHeadRecipeAndDefaultWhenTheBodyTrains()
    {
        Assert.Equal("auto", Options("head").Augment);
        Assert.Equal("light", JobSetup.AugmentLevelFor(Options("head")));
        Assert.Equal("default", JobSetup.AugmentLevelFor(Options("full")));
        Assert.Equal("default", JobSetup.AugmentLevelFor(Options("two-phase")));
        Assert.Equal("light", JobSetup.AugmentLevelFor(Options("head", " AUTO ")));
        // Anything named is kept as given.
        Assert.Equal("strong", JobSetup.AugmentLevelFor(Options("head", "strong")));
        Assert.Equal("none", JobSetup.AugmentLevelFor(Options("full", "none")));
        Assert.Equal("Resize(64)", JobSetup.AugmentLevelFor(Options("head", "Resize(64)")));
    }
}
