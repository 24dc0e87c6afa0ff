using TransferKit.FineTune.Inference;
using TransferKit.FineTune.Reporting;

namespace TransferKit.FineTune.Tests;

/// <summary>Confusion-matrix metrics against values worked out by hand, the probability rule, and metadata parsing.</summary>
public class ClassMetricsTests
{
    const double Exact = 1e-12;
    const float SoftmaxTolerance = 1e-6f;

    /// <summary>
    /// rows = true class, columns = predicted:
    ///   a: 5 1 0 0
    ///   b: 2 3 1 0
    ///   c: 0 0 4 0
    ///   d: 0 0 0 0   (no samples, never predicted)
    /// </summary>
    static ConfusionMatrix Example()
    {
        var m = new ConfusionMatrix(4);
        int[,] counts = { { 5, 1, 0, 0 }, { 2, 3, 1, 0 }, { 0, 0, 4, 0 }, { 0, 0, 0, 0 } };
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                for (int n = 0; n < counts[i, j]; n++) m.Add(i, j);
        return m;
    }

    [Fact]
    public void PrecisionRecallAndF1MatchHandComputedValues()
    {
        var m = Example();
        Assert.Equal(16, m.Total);
        Assert.Equal(12, m.Correct);
        Assert.Equal(0.75, m.Accuracy, Exact);
        var c = ClassMetrics.Compute(m, ["a", "b", "c", "d"]);
        // a: TP 5, predicted 7 (column), support 6 (row). F1 = 2·TP / (2·TP + FP + FN) = 10 / 13.
        Assert.Equal((6L, 7L, 5L), (c[0].Support, c[0].Predicted, c[0].TruePositives));
        Assert.Equal(5.0 / 7, c[0].Precision, Exact);
        Assert.Equal(5.0 / 6, c[0].Recall, Exact);
        Assert.Equal(10.0 / 13, c[0].F1, Exact);
        // b: TP 3, predicted 4, support 6: P 3/4, R 1/2, F1 6/10.
        Assert.Equal(0.75, c[1].Precision, Exact);
        Assert.Equal(0.5, c[1].Recall, Exact);
        Assert.Equal(0.6, c[1].F1, Exact);
        // c: TP 4, predicted 5, support 4: P 4/5, R 1, F1 8/9.
        Assert.Equal(0.8, c[2].Precision, Exact);
        Assert.Equal(1.0, c[2].Recall, Exact);
        Assert.Equal(8.0 / 9, c[2].F1, Exact);
        // d: no samples and no predictions: every ratio is 0/0, reported as 0.
        Assert.Equal((0L, 0L, 0.0, 0.0, 0.0), (c[3].Support, c[3].Predicted, c[3].Precision, c[3].Recall, c[3].F1));
        // Macro averages leave out d (no support).
        var macro = ClassMetrics.MacroAverage(c);
        Assert.Equal((5.0 / 7 + 0.75 + 0.8) / 3, macro.Precision, Exact);
        Assert.Equal((5.0 / 6 + 0.5 + 1.0) / 3, macro.Recall, Exact);
        Assert.Equal((10.0 / 13 + 0.6 + 8.0 / 9) / 3, macro.F1, Exact);
    }

    [Fact]
    public void AClassNeverPredictedHasZeroPrecisionAndRecall()
    {
        var m = new ConfusionMatrix(2);
        m.Add(0, 0); m.Add(1, 0); m.Add(1, 0);
        var c = ClassMetrics.Compute(m, ["x", "y"]);
        Assert.Equal(1.0 / 3, c[0].Precision, Exact);
        Assert.Equal(1.0, c[0].Recall, Exact);
        Assert.Equal(0.5, c[0].F1, Exact);
        Assert.Equal((0.0, 0.0, 0.0), (c[1].Precision, c[1].Recall, c[1].F1));
    }

    [Fact]
    public void SubsetKeepsTheChosenRowsAndColumns()
    {
        var sub = Example().Subset([2, 0]);
        Assert.Equal(new long[][] { [4, 0], [0, 5] }, sub.ToRows());
    }

    [Fact]
    public void OutOfRangeClassesAreRefused()
    {
        var m = new ConfusionMatrix(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Add(3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Add(0, -1));
        Assert.Throws<ArgumentException>(() => ClassMetrics.Compute(m, ["only", "two"]));
    }

    [Fact]
    public void ProbabilitiesAreKeptAndLogitsGetASoftmax()
    {
        float[] probabilities = [0.7f, 0.2f, 0.1f, 0f, 0.5f, 0.5f];
        Assert.Equal(probabilities, ClassProbabilities.From(probabilities, 3, out bool applied));
        Assert.False(applied);

        float[] logits = [2f, 1f, 0f, -1f, 0f, 1f];
        var p = ClassProbabilities.From(logits, 3, out applied);
        Assert.True(applied);
        double e = Math.Exp(1), denominator = 1 + e + e * e;
        Assert.Equal((float)(e * e / denominator), p[0], SoftmaxTolerance);
        Assert.Equal((float)(e / denominator), p[1], SoftmaxTolerance);
        Assert.Equal((float)(1 / denominator), p[2], SoftmaxTolerance);
        Assert.Equal(p[0], p[5], SoftmaxTolerance);

        // Values in [0, 1] whose rows do not sum to 1 are scores, not probabilities.
        Assert.False(ClassProbabilities.AreProbabilities([0.2f, 0.3f, 0.1f], 3));
        // One row off is enough for the whole batch to get a softmax.
        Assert.False(ClassProbabilities.AreProbabilities([0.5f, 0.5f, 0f, 1.5f, -0.5f, 0f], 3));
    }

    [Fact]
    public void MetadataParsesAndBadMetadataNamesTheFile()
    {
        var meta = new Dictionary<string, string>
        {
            [ModelMetadata.LabelsKey] = "[\"ants\",\"bees\"]",
            [ModelMetadata.PreprocessingKey] = "{\"name\":\"caffe-imagenet\",\"order\":\"BGR\",\"range\":\"0-255\",\"mean\":[104,117,123],\"std\":[1,1,1],\"resize\":256,\"crop\":224,\"channels\":3}",
        };
        Assert.Equal(["ants", "bees"], ModelMetadata.Labels(meta, "m.onnx")!);
        var p = ModelMetadata.Preprocessing(meta, "m.onnx")!;
        Assert.Equal(Augment.Presets.Preprocessing.CaffeImageNet with { Mean = p.Mean, Std = p.Std }, p);
        Assert.Equal(Augment.Presets.Preprocessing.CaffeImageNet.Mean, p.Mean);
        Assert.Null(ModelMetadata.Labels(new Dictionary<string, string>(), "m.onnx"));

        var bad = new Dictionary<string, string> { [ModelMetadata.PreprocessingKey] = "{\"order\":\"XYZ\"}", [ModelMetadata.LabelsKey] = "{}" };
        var e1 = Assert.Throws<InvalidDataException>(() => ModelMetadata.Preprocessing(bad, "bad.onnx"));
        Assert.Contains("bad.onnx", e1.Message);
        var e2 = Assert.Throws<InvalidDataException>(() => ModelMetadata.Labels(bad, "bad.onnx"));
        Assert.Contains("labels", e2.Message);
    }
}
