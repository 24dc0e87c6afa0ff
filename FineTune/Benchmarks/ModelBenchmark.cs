using System.Diagnostics;
using TransferKit.FineTune.Freezing;
using TransferKit.FineTune.Heads;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Losses;
using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Benchmarks;

/// <summary>One measured configuration: median images per second over timed iterations after warm-up.</summary>
public sealed record BenchResult(string Mode, int Batch, int Threads, double MedianImagesPerSecond, double MedianMilliseconds, int Iterations)
{
    /// <summary>For a training step: MB held by the plan's forward activations, its shared workspace, its activation gradients, and the trainable parameters with their gradients and optimizer state.</summary>
    public TrainingMemory? Memory { get; init; }
}

/// <summary>Where a training step's memory goes, in MB (see <see cref="BenchResult.Memory"/>).</summary>
public sealed record TrainingMemory(double ActivationsMb, double WorkspaceMb, double GradientsMb, double ParametersMb);

/// <summary>Throughput of inference and of training steps on TransferKit's kernels.</summary>
public static class ModelBenchmark
{
    /// <summary>Peak resident set size of this process in MB (Linux VmHWM).</summary>
    public static double PeakRssMb()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException) { }
        return Environment.WorkingSet / 1048576.0;
    }

    /// <summary>
    /// Inference warms up for at least this long beyond its <c>--warmup</c> iterations: .NET compiles a method first
    /// quickly and recompiles it optimised (with profile data) after about 30 calls, in the background, so a few
    /// batch-1 runs still time partly unoptimised code (at batch 1 with 2 warm-up runs the native rate measured
    /// 2–4× below its steady state). ONNX Runtime, native code, gets the same warm-up beside it.
    /// </summary>
    public const double MinInferenceWarmupSeconds = 1.0;

    /// <summary>Runs <paramref name="run"/> <paramref name="warmup"/> times and on until <see cref="MinInferenceWarmupSeconds"/> have passed.</summary>
    static void WarmUp(int warmup, Action run)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < warmup || clock.Elapsed.TotalSeconds < MinInferenceWarmupSeconds; i++) run();
    }

    static BenchResult Measure(string mode, int batch, int warmup, int iterations, Action step)
    {
        for (int i = 0; i < warmup; i++) step();
        var times = new List<double>();
        for (int i = 0; i < iterations; i++)
        {
            var sw = Stopwatch.StartNew();
            step();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        return new BenchResult(mode, batch, Toolkit.Threading.Workers.MaxThreads, batch * 1000.0 / median, median, iterations);
    }

    public static BenchResult Inference(ImportedModel model, int batch, int warmup, int iterations)
    {
        var inputs = Verifier.RandomInputs(model, batch, 1);
        var shapes = inputs.Select(t => t.ShapeArray).ToArray();
        // The engine's inference path: rewritten, the batch in chunks across threads where the graph allows.
        var runner = new GraphRunner(model.Graph, optimize: true);
        WarmUp(warmup, () => runner.Infer(inputs));
        return Measure("inference", batch, 0, iterations, () => runner.Infer(inputs));
    }

    /// <summary>
    /// Runs per block in <see cref="InferenceBesideOrt"/>: each engine runs a block of this many timed iterations after
    /// one untimed run, the blocks alternating.
    /// </summary>
    public const int BlockIterations = 5;

    /// <summary>
    /// Pause before each block, so the other engine's workers have stopped spinning and gone to sleep: at batch 1 with 2
    /// threads ResNet-18's native rate after a block of ONNX Runtime runs was 35 img/s with a 50 ms pause, 49–61 with
    /// 300 ms and 70–72 with 1 s, its rate run alone (ONNX Runtime's own rose from 98 to 112).
    /// </summary>
    public const int SettleMilliseconds = 1000;

    /// <summary>
    /// Inference natively and in ONNX Runtime (<see cref="OrtBenchmarkSession"/>: same batch, same threads) on the same
    /// random inputs, timed alternately in blocks so a busy machine slows both alike. ONNX Runtime runs as configured by
    /// default, its intra-op workers spinning after a run, as TransferKit's helpers do; a run right after the other
    /// engine's shares the cores with its spinning workers (at batch 1 with 2 threads that cost the native rate 25–45 %
    /// when the engines alternated run by run). So each engine runs a block of <see cref="BlockIterations"/> timed
    /// iterations after one untimed run that takes the other's spinning, the blocks alternating until both have
    /// <paramref name="iterations"/> timed runs (at least one block each).
    /// </summary>
    public static (BenchResult Native, BenchResult Ort) InferenceBesideOrt(ImportedModel model, int batch, int warmup, int iterations)
    {
        var inputs = Verifier.RandomInputs(model, batch, 1);
        var shapes = inputs.Select(t => t.ShapeArray).ToArray();
        var runner = new GraphRunner(model.Graph, optimize: true);   // as Inference runs it
        using var ort = new OrtBenchmarkSession(model, Toolkit.Threading.Workers.MaxThreads);
        ort.Prepare(inputs);
        WarmUp(warmup, () => { runner.Infer(inputs); ort.Run(); });
        var native = new List<double>(); var reference = new List<double>();
        void Block(Action run, List<double> times)
        {
            Thread.Sleep(SettleMilliseconds);
            run();
            for (int k = 0; k < BlockIterations; k++)
            {
                var sw = Stopwatch.StartNew();
                run();
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
        }
        for (int b = 0; native.Count < iterations || reference.Count < iterations; b++)
        {
            // Alternate which engine's block goes first.
            if (b % 2 == 0) { Block(() => runner.Infer(inputs), native); Block(ort.Run, reference); }
            else { Block(ort.Run, reference); Block(() => runner.Infer(inputs), native); }
        }
        BenchResult Result(string mode, List<double> times)
        {
            times.Sort();
            double median = times[times.Count / 2];
            return new BenchResult(mode, batch, Toolkit.Threading.Workers.MaxThreads, batch * 1000.0 / median, median, times.Count);
        }
        return (Result("inference", native), Result("onnxruntime", reference));
    }

    /// <summary>
    /// One training step: forward (batch norm in train mode where the plan says), cross-entropy, backward, SGD with
    /// momentum 0.9. <paramref name="headOnly"/> freezes everything but the classifier head.
    /// </summary>
    public static BenchResult Training(ImportedModel model, int batch, int warmup, int iterations, bool headOnly, BatchNormPolicy bn = BatchNormPolicy.Train,
        Dictionary<string, double>? profile = null, IReadOnlyList<string>? freeze = null)
    {
        var graph = model.Graph;
        var head = Head.Find(graph);
        Head.SetAsideSoftmax(graph, head);
        var plan = new FreezePlan(graph) { BatchNorm = headOnly ? BatchNormPolicy.Eval : bn };
        if (headOnly) plan.FreezeAllButHead(head.Nodes); else plan.UnfreezeAll();
        bool partial = !headOnly && freeze is { Count: > 0 };
        if (partial) foreach (var f in freeze!) plan.FreezeRule(f);
        plan.ApplyBatchNormPolicy();
        var inputs = Verifier.RandomInputs(model, batch, 1);
        // A frozen prefix (all of it in inference mode) runs as inference, as the fine-tune job runs it; the rest trains.
        var cut = FrozenPrefix.TryCreate(graph, n => !plan.TrainingMode(n));
        var prefix = cut == null ? null : new GraphRunner(cut.Prefix, optimize: true);
        var trained = cut?.Suffix ?? graph;
        var suffixShapes = prefix == null ? inputs.Select(t => t.ShapeArray).ToArray() : prefix.Infer(inputs).Select(t => t.ShapeArray).ToArray();
        var training = new TrainingPlan(trained, suffixShapes, n => !plan.TrainingMode(n));
        var sgd = new Sgd(graph.Parameters.Where(p => p.Trainable), lr: 1e-4f, momentum: 0.9f);
        var labels = Enumerable.Range(0, batch).Select(i => i % head.Classes).ToArray();
        var loss = new CrossEntropyLoss();
        var outShape = training.Shapes[trained.Outputs[0].Id];
        var grad = new Tensor(outShape);
        long step = 0;
        var clock = Stopwatch.StartNew();
        double last = 0;
        void Mark(string key)
        {
            double now = clock.Elapsed.TotalMilliseconds;
            if (profile != null && step > warmup) profile[key] = profile.GetValueOrDefault(key) + (now - last) / iterations;
            last = now;
        }
        Action<Node, Tensor[]>? fwd = profile == null ? null : (n, _) => Mark("forward " + Kind(n));
        Action<Node>? bwd = profile == null ? null : n => Mark("backward " + Kind(n));
        // Replays run just before a node's step, ahead of this callback: their time is told apart from the op's.
        Action<Node>? beforeBwd = profile == null ? null : n => Mark("backward replays");
        var result = Measure(headOnly ? "train-head" : partial ? "train-partial" : "train-full", batch, warmup, iterations, () =>
        {
            last = clock.Elapsed.TotalMilliseconds;
            var x = inputs;
            if (prefix != null) { x = prefix.Infer(inputs); Mark("forward frozen prefix (inference)"); }
            var y = training.Forward(x, plan.TrainingMode, step++, fwd)[0];
            loss.Compute(y.Reshaped(batch, y.Length / batch), labels, grad.Reshaped(batch, grad.Length / batch));
            sgd.ZeroGrad();
            Mark("loss and zero-grad");
            training.Backward([grad], bwd, beforeBwd);
            sgd.Step();
            Mark("optimizer step");
        });
        Head.RestoreSoftmax(graph, head);
        const double mb = 4.0 / 1048576;
        long parameterFloats = graph.Parameters.Sum(p => (long)p.Value.Length * (p.Trainable ? 3 : 1));
        return result with
        {
            Memory = new TrainingMemory(training.ActivationFloats * mb, (training.ForwardFloats - training.ActivationFloats) * mb,
                training.GradientFloats * mb, parameterFloats * mb),
        };
    }

    /// <summary>An op type for profiles; convolutions are told apart as depthwise, 1×1 or k×k.</summary>
    static string Kind(Node n) => n.Op switch
    {
        Toolkit.Ops.ConvOp c => ConvKind(c, n),
        Toolkit.Ops.FusedConvOp f => ConvKind(f.Conv, n) + (f.FusedNodes.Count > 1 ? "+" : ""),
        Toolkit.Ops.FusedConcatOp => "Concat+convs",
        _ => n.Op.Type,
    };

    static string ConvKind(Toolkit.Ops.ConvOp c, Node n) =>
        c.Group > 1 && n.Inputs[1].Parameter?.Value.Dim(1) == 1 ? "Conv depthwise" : c.Window.Kernel.All(k => k == 1) ? "Conv 1x1" : "Conv kxk";

    /// <summary>Floating-point operations of a convolution node (2 per multiply-add; a fused concat's convolutions summed), 0 for other ops.</summary>
    static double Flops(Node n, ExecutionPlan plan)
    {
        if (n.Op is Toolkit.Ops.FusedConcatOp concat)
        {
            double sum = 0;
            for (int i = 0; i < concat.Parts.Count; i++)
                if (concat.Parts[i] is { } part)
                {
                    int at = concat.FirstInput(i);
                    sum += ConvFlops(part.InferShapes([plan.Shapes[n.Inputs[at].Id], plan.Shapes[n.Inputs[at + 1].Id], plan.Shapes[n.Inputs[at + 2].Id]])[0],
                        plan.Shapes[n.Inputs[at + 1].Id]);
                }
            return sum;
        }
        if (n.Op is not (Toolkit.Ops.ConvOp or Toolkit.Ops.FusedConvOp)) return 0;
        return ConvFlops(plan.Shapes[n.Outputs[0].Id], plan.Shapes[n.Inputs[1].Id]);
    }

    /// <summary>2 · outputs · weights per output of a convolution with output shape y and weight shape w.</summary>
    static double ConvFlops(int[] y, int[] w)
    {
        double perOutput = 1;
        for (int d = 1; d < w.Length; d++) perOutput *= w[d];
        double outputs = 1;
        foreach (var d in y) outputs *= d;
        return 2 * outputs * perOutput;
    }

    /// <summary>Milliseconds per node (median over iterations) of an inference run, slowest first.</summary>
    public static IReadOnlyList<(string Node, string Op, string Shape, double Milliseconds, double Flops)> ProfileInference(ImportedModel model, int batch, int iterations)
    {
        var inputs = Verifier.RandomInputs(model, batch, 1);
        var shapes = inputs.Select(t => t.ShapeArray).ToArray();
        var plan = new ExecutionPlan(PlanOptimizer.Optimize(model.Graph, shapes), shapes);
        // Warmed up as the timed benchmark is (at least a second, so the timed runs see optimised code), through the
        // same per-node callback the timed runs use: after one run, the first nodes of SqueezeNet 1.1 still took 1.5× their warm time.
        WarmUp(2, () => plan.Run(inputs, (_, _) => { }));
        var graph = plan.Graph;
        var times = graph.Nodes.Select(_ => new List<double>()).ToArray();
        for (int i = 0; i < Math.Max(1, iterations); i++)
        {
            var sw = Stopwatch.StartNew();
            double last = 0;
            plan.Run(inputs, (node, _) =>
            {
                double now = sw.Elapsed.TotalMilliseconds;
                times[node.Index].Add(now - last);
                last = now;
            });
        }
        return graph.Nodes.Select(n => (n.Name, Kind(n), string.Join('x', plan.Shapes[n.Outputs[0].Id]), times[n.Index].Order().ElementAt(times[n.Index].Count / 2), Flops(n, plan)))
            .OrderByDescending(t => t.Item4).ToList();
    }

    /// <summary>
    /// ONNX Runtime's own per-node profile of the same model, batch and threads (<see cref="OrtBenchmarkSession"/> with
    /// profiling on): median kernel milliseconds per node over <paramref name="iterations"/> runs after warm-up, slowest first.
    /// </summary>
    public static IReadOnlyList<(string Node, string Op, string Shape, double Milliseconds)> ProfileOrt(ImportedModel model, int batch, int iterations)
    {
        var inputs = Verifier.RandomInputs(model, batch, 1);
        var prefix = Path.Combine(Path.GetTempPath(), $"transferkit-ort-profile-{Environment.ProcessId}");
        using var ort = new OrtBenchmarkSession(model, Toolkit.Threading.Workers.MaxThreads, prefix);
        ort.Prepare(inputs);
        // Warm-up runs count in the profile too; as many timed runs again keep the median on the warm ones.
        int runs = Math.Max(1, iterations);
        for (int i = 0; i < 2 * runs + 1; i++) ort.Run();
        return ort.EndProfile().OrderByDescending(t => t.Milliseconds).ToList();
    }
}
