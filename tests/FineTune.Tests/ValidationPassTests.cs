using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Tests;

public class ValidationPassTests
{
    static ValidationPass Pass(int[] labels, params float[] logits) =>
        new(0, 0, Enumerable.Range(0, labels.Length).ToArray(), labels, logits, 2);

    [Fact]
    public void SinglePredictionIsOneClassForEveryImageOfSeveralClasses()
    {
        Assert.Equal(0, Pass([0, 1, 1], 0, 0, 0, 0, 0, 0).SinglePrediction());                 // a dead ReLU head: every logit 0, ties go to class 0
        Assert.Equal(0, Pass([0, 1, 1], 2, 0, 5, 0, 0.1f, 0).SinglePrediction());              // the bees logit died, the ants logit still varies
        Assert.Null(Pass([0, 1, 1], 2, 0, 5, 0, 0, 0.1f).SinglePrediction());                  // one image goes the other way
        Assert.Null(Pass([1, 1, 1], 2, 0, 5, 0, 0.1f, 0).SinglePrediction());                  // a single-class set says nothing
        Assert.Null(Pass([0], 3, 1).SinglePrediction());
    }
}
