using System.CommandLine;
using System.Text.Json;
using TransferKit.FineTune.Benchmarks;
using TransferKit.Importers.Onnx;

namespace TransferKit.FineTune.Cli;

/// <summary><c>transferkit bench</c>: images per second of inference and training steps on TransferKit's kernels.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = ModelOption.CreateArgument();
        var modelOption = ModelOption.Create();
        var train = new Option<bool>("--train") { Description = "Measure the full training step (forward, backward, SGD momentum, batch norm in train mode) and the head-only step." };
        var freeze = new Option<string[]>("--freeze") { Description = "With --train: freeze parameters or nodes matching these globs (or ..NODE: everything up to and including NODE) in the first step, as finetune's --freeze.", AllowMultipleArgumentsPerToken = true };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 32 }.Batch();
        var threads = new Option<int>("--threads") { Description = "Threads (default: all cores).", DefaultValueFactory = _ => 0 }.Threads();
        var iterations = new Option<int>("--iterations") { Description = "Timed iterations (median reported).", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed iterations first (inference also warms up for at least 1 s, so the timed runs see optimised code).", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var profile = new Option<bool>("--profile") { Description = "Time every node of an inference run, then ONNX Runtime's own per-node profile of the same batch (with --train: the full training step, forward and backward per op type), and print where the time goes." };
        var top = new Option<int>("--top") { Description = "With --profile: how many of the slowest nodes to list for each engine (0: every node).", DefaultValueFactory = _ => 25 }.InRange(0, int.MaxValue);
        var gemm = new Option<int[]>("--gemm") { Description = "Instead of a model, measure one GEMM of size M N K in GFLOP/s.", AllowMultipleArgumentsPerToken = true, Arity = new ArgumentArity(3, 3) };
        var trans = new Option<string>("--gemm-op") { Description = "Transposes for --gemm: NN, TN (Aᵀ·B), NT (A·Bᵀ) or TT.", DefaultValueFactory = _ => "NN" };
        model.Arity = ArgumentArity.ZeroOrOne;
        var cmd = new Command("bench", "Measure inference (and with --train, training-step) throughput in images per second, and peak memory.")
        {
            model, modelOption, train, freeze, batch, threads, iterations, warmup, json, gemm, trans, profile, top,
        };
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(threads) > 0) Toolkit.Threading.Workers.MaxThreads = parse.GetValue(threads);
            if (parse.GetValue(gemm) is { Length: 3 } mnk)
            {
                var (m, n, k) = (mnk[0], mnk[1], mnk[2]);
                var a = new float[(long)m * k]; var b2 = new float[(long)k * n]; var c = new float[(long)m * n];
                new Random(1).NextBytes(new byte[1]);
                for (int i = 0; i < a.Length; i++) a[i] = (i % 7) * 0.1f;
                for (int i = 0; i < b2.Length; i++) b2[i] = (i % 5) * 0.1f;
                var op = parse.GetValue(trans)!.ToUpperInvariant();
                if (op is not ("NN" or "TN" or "NT" or "TT")) throw new CliException($"--gemm-op {op}: use NN, TN, NT or TT.");
                bool ta = op[0] == 'T', tb = op[1] == 'T';
                int lda = ta ? m : k, ldb = tb ? k : n;
                for (int i = 0; i < 2; i++) Toolkit.Kernels.Gemm.Sgemm(ta, tb, m, n, k, 1, a, lda, b2, ldb, 0, c, n);
                var times = new List<double>();
                for (int i = 0; i < Math.Max(3, parse.GetValue(iterations)); i++)
                {
                    var sw = System.Diagnostics.Stopwatch.StartNew();
                    Toolkit.Kernels.Gemm.Sgemm(ta, tb, m, n, k, 1, a, lda, b2, ldb, 0, c, n);
                    times.Add(sw.Elapsed.TotalSeconds);
                }
                times.Sort();
                double gflops = 2.0 * m * n * k / times[times.Count / 2] / 1e9;
                Console.WriteLine(parse.GetValue(json)
                    ? JsonSerializer.Serialize(new { gemm = new[] { m, n, k }, op, path = Toolkit.Kernels.Gemm.Path, threads = Toolkit.Threading.Workers.MaxThreads, gflop_s = gflops })
                    : $"gemm {op} {m}x{n}x{k}  {Toolkit.Kernels.Gemm.Path}  threads {Toolkit.Threading.Workers.MaxThreads}  {gflops:F1} GFLOP/s");
                return 0;
            }
            var path = parse.GetValue(model) == null && parse.GetValue(modelOption) == null
                ? throw new CliException("Name a model (a .onnx file or a catalogue name), or use --gemm M N K.")
                : ModelOption.Resolve(parse.GetValue(model), parse.GetValue(modelOption));
            int b = parse.GetValue(batch), it = parse.GetValue(iterations), wu = parse.GetValue(warmup);
            if (b < 1 || it < 1 || wu < 0) throw new CliException("--batch and --iterations must be at least 1, --warmup at least 0.");
            if (parse.GetValue(profile) && parse.GetValue(train))
            {
                var parts = new Dictionary<string, double>();
                var r = ModelBenchmark.Training(OnnxImporter.Import(path), b, wu, it, headOnly: false, profile: parts, freeze: parse.GetValue(freeze));
                Console.WriteLine($"training step batch {b}, threads {r.Threads}: {r.MedianMilliseconds:F1} ms median ({r.MedianImagesPerSecond:F1} img/s); mean per part:");
                foreach (var (k, v) in parts.OrderByDescending(kv => kv.Value))
                    Console.WriteLine($"  {k,-36} {v,9:F2} ms");
                return 0;
            }
            if (parse.GetValue(profile))
            {
                var nodes = ModelBenchmark.ProfileInference(OnnxImporter.Import(path), b, it);
                double total = nodes.Sum(n => n.Milliseconds);
                Console.WriteLine($"inference batch {b}, threads {Toolkit.Threading.Workers.MaxThreads}: {total:F1} ms per batch ({b * 1000 / total:F1} img/s)");
                foreach (var g in nodes.GroupBy(n => n.Op).OrderByDescending(g => g.Sum(n => n.Milliseconds)))
                    Console.WriteLine($"  {g.Key,-22} {g.Count(),4} nodes  {g.Sum(n => n.Milliseconds),9:F2} ms  {g.Sum(n => n.Milliseconds) / total,6:P1}");
                Console.WriteLine("slowest nodes:");
                int shown = parse.GetValue(top) is > 0 and var t ? t : int.MaxValue;
                foreach (var n in nodes.Take(shown))
                    Console.WriteLine($"  {n.Node,-32} {n.Op,-20} {n.Shape,-16} {n.Milliseconds,9:F2} ms{(n.Flops > 0 ? $"  {n.Flops / n.Milliseconds / 1e6,6:F1} GFLOP/s" : "")}");
                var ort = ModelBenchmark.ProfileOrt(OnnxImporter.Import(path), b, it);
                double ortTotal = ort.Sum(n => n.Milliseconds);
                Console.WriteLine($"ONNX Runtime, same batch and threads (its own profile, kernel time per node): {ortTotal:F1} ms per batch ({b * 1000 / ortTotal:F1} img/s)");
                foreach (var g in ort.GroupBy(n => n.Op).OrderByDescending(g => g.Sum(n => n.Milliseconds)))
                    Console.WriteLine($"  {g.Key,-22} {g.Count(),4} nodes  {g.Sum(n => n.Milliseconds),9:F2} ms  {g.Sum(n => n.Milliseconds) / ortTotal,6:P1}");
                Console.WriteLine("ONNX Runtime's slowest nodes:");
                foreach (var n in ort.Take(shown))
                    Console.WriteLine($"  {n.Node,-32} {n.Op,-20} {n.Shape,-16} {n.Milliseconds,9:F2} ms");
                return 0;
            }
            var results = new List<BenchResult>();
            BenchResult? ortResult = null;
            double? trainRss = null;
            if (parse.GetValue(train))
            {
                results.Add(ModelBenchmark.Training(OnnxImporter.Import(path), b, wu, it, headOnly: false, freeze: parse.GetValue(freeze)));
                // The peak of the process up to here is the full step's own (the head-only run that follows is smaller).
                trainRss = ModelBenchmark.PeakRssMb();
                GC.Collect();
                results.Add(ModelBenchmark.Training(OnnxImporter.Import(path), b, wu, it, headOnly: true));
            }
            else
            {
                var (native, ort) = ModelBenchmark.InferenceBesideOrt(OnnxImporter.Import(path), b, wu, it);
                results.Add(native);
                results.Add(ort);
                ortResult = ort;
            }
            double rss = trainRss ?? ModelBenchmark.PeakRssMb();
            if (parse.GetValue(json))
            {
                var first = results[0];
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    model = path,
                    batch = b,
                    threads = first.Threads,
                    native_img_s = first.MedianImagesPerSecond,
                    head_only_img_s = parse.GetValue(train) ? results[1].MedianImagesPerSecond : (double?)null,
                    ort_img_s = ortResult?.MedianImagesPerSecond,
                    ratio = ortResult == null ? (double?)null : first.MedianImagesPerSecond / ortResult.MedianImagesPerSecond,
                    peak_rss_mb = rss,
                    memory_mb = first.Memory == null ? null : new
                    {
                        activations = first.Memory.ActivationsMb, workspace = first.Memory.WorkspaceMb,
                        activation_gradients = first.Memory.GradientsMb, parameters = first.Memory.ParametersMb,
                    },
                    results = results.Select(r => new { mode = r.Mode, img_s = r.MedianImagesPerSecond, median_ms = r.MedianMilliseconds, iterations = r.Iterations }),
                }));
            }
            else
            {
                foreach (var r in results)
                    Console.WriteLine($"{r.Mode,-12} batch {r.Batch,3}  threads {r.Threads}  {r.MedianImagesPerSecond,8:F1} img/s  ({r.MedianMilliseconds:F1} ms/step, median of {r.Iterations})");
                if (ortResult != null)
                    Console.WriteLine($"native / ONNX Runtime {results[0].MedianImagesPerSecond / ortResult.MedianImagesPerSecond:F2}x (timed alternately, same batch and threads)");
                Console.WriteLine(trainRss != null ? $"peak RSS of the full training step {rss:F0} MB" : $"peak RSS {rss:F0} MB");
            }
            return 0;
        });
        return cmd;
    }
}
