using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Losses;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Optim;

/// <summary>
/// The learning-rate range test on least squares built from Toolkit ops (a Gemm and the MSE loss), where theory says
/// where the loss can fall and where gradient descent must diverge: full-batch SGD on a quadratic with Hessian H is
/// stable exactly for lr &lt; 2/λ_max(H).
/// </summary>
public class LrFinderTests
{
    /// <summary>The smoothed loss recomputed in double from the recorded raw losses (same operations, same order).</summary>
    const double SmoothingTolerance = 1e-12;

    /// <summary>The learning rates are start·ratio^(i/(n−1)) computed with Math.Pow: a few ulp.</summary>
    const double RateTolerance = 1e-12;

    /// <summary>Group rates are stored as float32.</summary>
    const double FloatRateTolerance = 1e-6;

    /// <summary>
    /// Below this fraction of 1/λ_max the sweep has barely moved the weights (Σ lr·λ_max ≪ 1), so a suggestion there
    /// would mean the finder picked up noise rather than the descent.
    /// </summary>
    const double SlowestSensibleFraction = 1e-2;

    const int Samples = 64, Features = 6;

    /// <summary>y = X·w* + b* + 0.1·noise, X standard normal; the model starts at zero.</summary>
    sealed class LeastSquares
    {
        public readonly ComputeGraph Graph = new();
        public readonly Tensor X = new(Samples, Features);
        public readonly float[] Y = new float[Samples];
        public readonly Parameter W, B;
        readonly TrainingPlan _plan;
        readonly MeanSquaredErrorLoss _loss = new();

        public LeastSquares(int seed)
        {
            var rng = new Random(seed);
            double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            var w = Enumerable.Range(0, Features).Select(_ => Normal()).ToArray();
            for (int i = 0; i < Samples; i++)
            {
                double y = 0.5;
                for (int j = 0; j < Features; j++) { X.Span[i * Features + j] = (float)Normal(); y += w[j] * X.Span[i * Features + j]; }
                Y[i] = (float)(y + 0.1 * Normal());
            }
            var x = Graph.AddInput("x", [-1, Features]);
            var wv = Graph.AddParameter("w", new Tensor(Features, 1));
            var bv = Graph.AddParameter("b", new Tensor(1));
            Graph.MarkOutput(Graph.AddNode("linear", new GemmOp(false, false, 1, 1), [x, wv, bv], ["y"]).Outputs[0]);
            (W, B) = (wv.Parameter!, bv.Parameter!);
            _plan = new TrainingPlan(Graph, [[Samples, Features]]);
        }

        /// <summary>One full batch: forward, MSE, backward into the parameters' gradients.</summary>
        public double LossAndGradients(int step)
        {
            var y = _plan.Forward([X])[0];
            var g = new Tensor(y.ShapeArray);
            double l = _loss.Compute(y, Y, g);
            _plan.Backward([g]);
            return l;
        }

        /// <summary>λ_max of the MSE Hessian over (w, b): (2/N)·[X 1]ᵀ[X 1], by power iteration in double.</summary>
        public double LargestCurvature()
        {
            int d = Features + 1;
            var a = new double[d, d];
            for (int i = 0; i < Samples; i++)
                for (int r = 0; r < d; r++)
                    for (int c = 0; c < d; c++)
                        a[r, c] += 2.0 / Samples * (r < Features ? X.Span[i * Features + r] : 1) * (c < Features ? X.Span[i * Features + c] : 1);
            var v = Enumerable.Repeat(1.0, d).ToArray();
            double lambda = 0;
            for (int it = 0; it < 500; it++)
            {
                var next = new double[d];
                for (int r = 0; r < d; r++) for (int c = 0; c < d; c++) next[r] += a[r, c] * v[c];
                lambda = Math.Sqrt(next.Sum(t => t * t));
                v = next.Select(t => t / lambda).ToArray();
            }
            return lambda;
        }
    }

    [Fact]
    public void SuggestsARateBelowTheStabilityLimitAndStopsWhenTheLossExplodes()
    {
        var problem = new LeastSquares(3);
        double limit = 2 / problem.LargestCurvature();
        var sgd = new Sgd([problem.W, problem.B], lr: 1e-3f);
        var finder = new LrFinder { Steps = 120 };
        var result = finder.Run(sgd, problem.LossAndGradients);
        var curve = result.Curve;
        string Describe() => $"stability limit {limit:G4}; suggestion {result.SuggestedLearningRate:G4}; stop: {result.StopReason}\n"
            + string.Join("\n", curve.Select(p => $"{p.LearningRate:G4} {p.Loss:G6} {p.SmoothedLoss:G6}"));

        // Early stop: the sweep would go on to 10, far past the limit; it stops on the 4× rule, once the rate is past
        // the limit (below it full-batch gradient descent on a quadratic cannot make the loss grow).
        Assert.True(result.StoppedEarly, Describe());
        Assert.Contains("exceeded", result.StopReason);
        Assert.True(curve.Count < finder.Steps, Describe());
        Assert.True(curve[^1].LearningRate > limit, Describe());
        Assert.True(curve[^1].SmoothedLoss > finder.DivergenceFactor * curve.Min(p => p.SmoothedLoss), Describe());
        Assert.All(curve, p => Assert.True(double.IsFinite(p.Loss) && double.IsFinite(p.SmoothedLoss)));

        // The suggestion lies where the loss falls: below the stability limit, above where training has barely begun,
        // and the smoothed loss there is still above its minimum (it is the steepest descent, not the bottom).
        double suggestion = result.SuggestedLearningRate;
        Assert.True(suggestion < limit && suggestion > SlowestSensibleFraction * limit / 2, Describe());
        Assert.True(result.SuggestionIndex < result.MinimumIndex, Describe());
        Assert.True(curve[result.SuggestionIndex].SmoothedLoss < 0.9 * curve[0].SmoothedLoss, Describe());

        // The smoothed loss is the bias-corrected moving average of the recorded losses.
        double average = 0;
        for (int i = 0; i < curve.Count; i++)
        {
            average = finder.Beta * average + (1 - finder.Beta) * curve[i].Loss;
            double expected = average / (1 - Math.Pow(finder.Beta, i + 1));
            Assert.True(Math.Abs(curve[i].SmoothedLoss - expected) <= SmoothingTolerance * expected, $"step {i}: {curve[i].SmoothedLoss} vs {expected}");
        }
        Assert.Equal(curve[0].Loss, curve[0].SmoothedLoss, SmoothingTolerance);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    [InlineData("rmsprop")]
    [InlineData("adagrad")]
    public void ParametersAndOptimizerStateAreRestoredBitwise(string name)
    {
        var problem = new LeastSquares(5);
        // Running statistics stand-in: outside the optimizer, changed by every batch.
        var statistic = new Parameter("running_mean", new Tensor([3], [0.25f, -1f, 3f])) { Trainable = false };
        ParameterGroup[] groups = [new([problem.W], 0.01f), new([problem.B], 0.02f)];
        Optimizer optimizer = name switch
        {
            "sgd" => new Sgd(groups, momentum: 0.9f, nesterov: true),
            "adam" => new Adam(groups),
            "rmsprop" => new RmsProp(groups, momentum: 0.5f, centered: true),
            _ => new Adagrad(groups, initialAccumulator: 0.1f),
        };
        // A few ordinary steps first, so there is state to keep.
        for (int i = 0; i < 3; i++) { optimizer.ZeroGrad(); problem.LossAndGradients(i); optimizer.Step(); }
        optimizer.Groups[0].LearningRate = 0.005f;   // as a schedule would have left it

        var before = Capture(optimizer, problem, statistic);
        var result = new LrFinder { Steps = 80 }.Run(optimizer, step =>
        {
            statistic.Value.Span[step % 3] += 1;
            return problem.LossAndGradients(step);
        }, [statistic]);
        Assert.True(result.Curve.Count > 10);
        var after = Capture(optimizer, problem, statistic);
        Assert.Equal(before.Weights, after.Weights);
        Assert.Equal(before.State, after.State);
        Assert.Equal(before.Scalars, after.Scalars);
        Assert.All(new[] { problem.W, problem.B }, p => Assert.All(p.Grad!.Span.ToArray(), g => Assert.Equal(0f, g)));

        // And the optimizer carries on exactly as an untouched twin does.
        var twin = new LeastSquares(5);
        ParameterGroup[] twinGroups = [new([twin.W], 0.01f), new([twin.B], 0.02f)];
        Optimizer other = name switch
        {
            "sgd" => new Sgd(twinGroups, momentum: 0.9f, nesterov: true),
            "adam" => new Adam(twinGroups),
            "rmsprop" => new RmsProp(twinGroups, momentum: 0.5f, centered: true),
            _ => new Adagrad(twinGroups, initialAccumulator: 0.1f),
        };
        for (int i = 0; i < 3; i++) { other.ZeroGrad(); twin.LossAndGradients(i); other.Step(); }
        other.Groups[0].LearningRate = 0.005f;
        foreach (var (o, p) in new[] { (optimizer, problem), (other, twin) })
            for (int i = 0; i < 2; i++) { o.ZeroGrad(); p.LossAndGradients(i); o.Step(); }
        Assert.Equal(Bits(twin.W), Bits(problem.W));
        Assert.Equal(Bits(twin.B), Bits(problem.B));
    }

    static int[] Bits(Parameter p) => p.Value.Span.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();

    static (int[][] Weights, string[] State, double[] Scalars) Capture(Optimizer o, LeastSquares problem, Parameter statistic) => (
        [Bits(problem.W), Bits(problem.B), Bits(statistic)],
        o.StateBuffers.OrderBy(s => s.Parameter).ThenBy(s => s.Slot)
            .Select(s => $"{s.Parameter}/{s.Slot}:{string.Join(",", s.Values.Select(BitConverter.SingleToInt32Bits))}").ToArray(),
        [o.StepCount, .. o.Groups.SelectMany(g => new double[] { g.LearningRate, g.BaseLearningRate })]);

    [Fact]
    public void AFailingBatchStillRestoresTheParameters()
    {
        var problem = new LeastSquares(7);
        var sgd = new Sgd([problem.W, problem.B], lr: 0.1f);
        var (w, b) = (Bits(problem.W), Bits(problem.B));
        var e = Assert.Throws<IOException>(() => new LrFinder { Steps = 50, StartLr = 1e-2 }.Run(sgd, step =>
            step == 10 ? throw new IOException("batch 10 is unreadable") : problem.LossAndGradients(step)));
        Assert.Contains("batch 10", e.Message);
        Assert.Equal(w, Bits(problem.W));
        Assert.Equal(b, Bits(problem.B));
        Assert.Equal(0, sgd.StepCount);
        Assert.Equal(0.1f, sgd.Groups[0].LearningRate);
    }

    [Fact]
    public void TheSweepIsExponentialAndGroupsKeepTheirRatio()
    {
        var a = new Parameter("a", new Tensor(2)); var b = new Parameter("b", new Tensor(2));
        var sgd = new Sgd([new ParameterGroup([a], 0.1f), new ParameterGroup([b], 0.025f)]);
        var finder = new LrFinder { StartLr = 1e-4, EndLr = 1, Steps = 41 };
        var seen = new List<(float A, float B)>();
        // A flat loss never diverges, so the sweep runs to its end.
        var result = finder.Run(sgd, step => { seen.Add((sgd.Groups[0].LearningRate, sgd.Groups[1].LearningRate)); return 1.0; });
        Assert.False(result.StoppedEarly);
        Assert.Null(result.StopReason);
        Assert.Equal(41, result.Curve.Count);
        Assert.Equal(Enumerable.Range(0, 41), result.Curve.Select(p => p.Step));
        Assert.Equal(1e-4, result.Curve[0].LearningRate, RateTolerance);
        Assert.Equal(1.0, result.Curve[^1].LearningRate, RateTolerance);
        for (int i = 0; i < 41; i++)
        {
            double expected = Math.Pow(10, -4 + i / 10.0);
            Assert.True(Math.Abs(result.Curve[i].LearningRate - expected) <= RateTolerance * expected, $"step {i}");
            Assert.True(Math.Abs(seen[i].A - expected) <= FloatRateTolerance * expected, $"step {i}: group 0 at {seen[i].A}");
            Assert.True(Math.Abs(seen[i].B - expected / 4) <= FloatRateTolerance * expected, $"step {i}: group 1 at {seen[i].B}");
        }
        Assert.Equal(0.1f, sgd.Groups[0].LearningRate);
        Assert.Equal(0.025f, sgd.Groups[1].LearningRate);
        // A loss that is not finite stops the sweep without recording it.
        var nan = finder.Run(sgd, step => step == 3 ? double.NaN : 1.0);
        Assert.True(nan.StoppedEarly);
        Assert.Equal(3, nan.Curve.Count);
        Assert.Contains("NaN", nan.StopReason);
    }

    [Fact]
    public void TheSuggestionIsTheSteepestDescentAgainstLogLr()
    {
        // s = 1 − tanh(2·(log10 lr + 3)) falls fastest at lr = 1e-3 (index 30 of 61 points from 1e-6 to 1).
        var curve = Enumerable.Range(0, 61).Select(i =>
        {
            double lr = Math.Pow(10, -6 + i / 10.0);
            return new LrFinderPoint(i, lr, 0, 1 - Math.Tanh(2 * (Math.Log10(lr) + 3)));
        }).ToList();
        Assert.Equal(30, LrFinder.Suggest(curve));
        // A steeper drop among the first points is left out by default (the average has seen few batches there).
        curve[2] = curve[2] with { SmoothedLoss = curve[2].SmoothedLoss - 5 };
        Assert.Equal(30, LrFinder.Suggest(curve));
        Assert.Equal(1, LrFinder.Suggest(curve, skipStart: 0));
        Assert.Equal(-1, LrFinder.Suggest(curve.Take(1).ToList()));
        // Too short to skip anything: the whole curve counts.
        Assert.Equal(1, LrFinder.Suggest([new(0, 1e-6, 0, 1), new(1, 1e-5, 0, 0.9), new(2, 1e-4, 0, 0.3), new(3, 1e-3, 0, 0.28)]));
    }

    [Fact]
    public void BadSettingsAreRefused()
    {
        var sgd = new Sgd([new Parameter("p", new Tensor(1))], 0.1f);
        Assert.Throws<ArgumentException>(() => new LrFinder { StartLr = 1, EndLr = 0.1 }.Run(sgd, _ => 1));
        Assert.Throws<ArgumentException>(() => new LrFinder { Steps = 1 }.Run(sgd, _ => 1));
        Assert.Throws<ArgumentException>(() => new LrFinder { Beta = 1 }.Run(sgd, _ => 1));
    }
}
