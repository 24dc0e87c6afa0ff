using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Serialization;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Optim;

/// <summary>
/// Export → checkpoint file → import → step equals stepping without interruption, bit for bit, for every optimizer
/// (with the options that add state: momentum, Nesterov, centering, an initial accumulator).
/// </summary>
public class OptimizerStateTests
{
    const int StepsBefore = 4, StepsAfter = 5;

    static readonly Dictionary<string, Func<ParameterGroup[], Optimizer>> Optimizers = new()
    {
        ["sgd"] = g => new Sgd(g),
        ["sgd-momentum"] = g => new Sgd(g, momentum: 0.9f),
        ["sgd-nesterov-dampening"] = g => new Sgd(g, momentum: 0.8f, dampening: 0.1f, nesterov: true),
        ["adam"] = g => new Adam(g),
        ["adamw"] = g => new AdamW(g, beta1: 0.8f, beta2: 0.99f),
        ["rmsprop"] = g => new RmsProp(g),
        ["rmsprop-centered-momentum"] = g => new RmsProp(g, momentum: 0.9f, centered: true),
        ["adagrad"] = g => new Adagrad(g),
        ["adagrad-initial-accumulator"] = g => new Adagrad(g, initialAccumulator: 0.1f),
    };

    public static TheoryData<string> Names() => [.. Optimizers.Keys];

    /// <summary>Two parameters in two groups (different rates and decay); the gradient depends on θ and the step.</summary>
    static (Parameter[] Ps, Optimizer Opt) Build(string name)
    {
        var a = new Parameter("conv.weight", new Tensor([2, 3], [0.5f, -1.2f, 2f, 0f, -0.3f, 0.7f])) { Grad = new Tensor(2, 3) };
        var b = new Parameter("head/bias", new Tensor([4], [0.1f, 0.2f, -0.4f, 1.5f])) { Grad = new Tensor(4) };
        var groups = new[] { new ParameterGroup([a], 0.05f, 0.01f), new ParameterGroup([b], 0.2f, 0) };
        return ([a, b], Optimizers[name](groups));
    }

    static void Step(Parameter[] ps, Optimizer opt, int t)
    {
        // A schedule in miniature: the learning rates move every step, so they are part of what must be restored.
        foreach (var g in opt.Groups) g.LearningRate = g.BaseLearningRate * (1f - 0.05f * t);
        for (int k = 0; k < ps.Length; k++)
            for (int i = 0; i < ps[k].Value.Length; i++)
                ps[k].Grad!.Span[i] = MathF.Sin(1.3f * t + i + 7 * k) + 0.1f * ps[k].Value.Span[i] * ps[k].Value.Span[i];
        opt.Step();
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void SaveLoadStepEqualsUninterruptedStepping(string name)
    {
        var (straight, straightOpt) = Build(name);
        for (int t = 1; t <= StepsBefore + StepsAfter; t++) Step(straight, straightOpt, t);

        var (first, firstOpt) = Build(name);
        for (int t = 1; t <= StepsBefore; t++) Step(first, firstOpt, t);
        var path = Path.Combine(Directory.CreateTempSubdirectory("transferkit-optstate-").FullName, "state" + CheckpointFile.Extension);
        var file = new CheckpointFile();
        file.AddParameters(first);
        file.AddOptimizer(firstOpt.ExportState());
        file.Save(path);

        // A fresh process in miniature: new parameters and a new optimizer, everything from the file.
        var (resumed, resumedOpt) = Build(name);
        var loaded = CheckpointFile.Load(path);
        loaded.RestoreParameters(resumed);
        resumedOpt.ImportState(loaded.ReadOptimizer());
        Assert.Equal(firstOpt.StepCount, resumedOpt.StepCount);
        for (int t = StepsBefore + 1; t <= StepsBefore + StepsAfter; t++) Step(resumed, resumedOpt, t);

        for (int k = 0; k < straight.Length; k++)
            Assert.Equal(straight[k].Value.Span.ToArray(), resumed[k].Value.Span.ToArray());
        Assert.Equal(straightOpt.Groups.Select(g => g.LearningRate), resumedOpt.Groups.Select(g => g.LearningRate));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void LosingTheStateChangesTheTrajectory(string name)
    {
        // The control for the test above: stepping on from the restored weights with a fresh optimizer must differ,
        // or the round trip would prove nothing (plain SGD is the exception: it has no state).
        var (straight, straightOpt) = Build(name);
        for (int t = 1; t <= StepsBefore + StepsAfter; t++) Step(straight, straightOpt, t);
        var (restarted, restartedOpt) = Build(name);
        for (int t = 1; t <= StepsBefore; t++) Step(restarted, restartedOpt, t);
        var (fresh, freshOpt) = Build(name);
        for (int k = 0; k < fresh.Length; k++) restarted[k].Value.Span.CopyTo(fresh[k].Value.Span);
        for (int t = StepsBefore + 1; t <= StepsBefore + StepsAfter; t++) Step(fresh, freshOpt, t);
        bool same = straight.Zip(fresh).All(z => z.First.Value.Span.SequenceEqual(z.Second.Value.Span));
        Assert.Equal(name == "sgd", same);
    }

    [Fact]
    public void ImportRefusesAnotherTypeOrUnknownParameters()
    {
        var (_, adam) = Build("adam");
        var (_, sgd) = Build("sgd-momentum");
        var (ps, source) = Build("adam");
        Step(ps, source, 1);
        var state = source.ExportState();
        Assert.Contains("Adam", Assert.Throws<ArgumentException>(() => sgd.ImportState(state)).Message);
        var renamed = state with { Slots = [state.Slots[0] with { Parameter = "nope" }] };
        Assert.Contains("'nope'", Assert.Throws<ArgumentException>(() => adam.ImportState(renamed)).Message);
        var shorter = state with { Slots = [state.Slots[0] with { Values = [1f] }] };
        Assert.Contains("1 values", Assert.Throws<ArgumentException>(() => adam.ImportState(shorter)).Message);
    }
}
