using System.CommandLine;
using TransferKit.FineTune.Catalog;
using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Training;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Cli;

/// <summary>
/// <c>transferkit export</c>: turn a fine-tune run's checkpoint into ONNX. The run's graph is re-created (base model,
/// new head per the saved options), the checkpoint's weights loaded, the softmax restored, and the file written with
/// tuned.onnx's metadata after the same check against ONNX Runtime.
/// </summary>
public static class ExportCommand
{
    /// <summary>Images (or random inputs) fed to the ONNX Runtime check.</summary>
    const int CheckBatch = 4;

    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A run checkpoint (.tkc), or a run folder (its checkpoints/best.tkc)." };
        var output = new Option<string?>("--out") { Description = "The .onnx file to write." };
        var model = new Option<string?>("--model") { Description = "The base model, when it is no longer where the run found it." };
        var foldBn = new Option<bool?>("--fold-bn") { Description = "Fold batch norms into the Conv/Gemm before them (default: as the run exported)." };
        var bakePreprocess = new Option<bool?>("--bake-preprocess") { Description = "Put the input normalisation inside the file, which then takes raw RGB 0-255 NCHW float input (default: as the run exported)." };
        var cmd = new Command("export", "Export a fine-tune run's checkpoint (best.tkc, last.tkc) to ONNX with the run's labels and preprocessing, checked against ONNX Runtime.")
        {
            checkpoint, output, model, foldBn, bakePreprocess,
        };
        cmd.SetAction(parse =>
        {
            var path = Resolve(parse.GetValue(checkpoint)!);
            var outPath = parse.GetValue(output) ?? throw new CliException("--out is required.");
            var saved = RunCheckpoint.Load(path);
            var exporter = RunExporter.FromCheckpoint(saved, parse.GetValue(model));
            var report = exporter.Export(outPath, CheckInputs(exporter.Model, saved), ExportSettings(exporter,
                parse.GetValue(foldBn) ?? saved.Options.FoldBn, parse.GetValue(bakePreprocess) ?? saved.Options.BakePreprocess));
            var epoch = saved.Position.EpochsDone;
            var m = saved.Metrics.FirstOrDefault(x => x.Epoch == epoch);
            Console.WriteLine($"exported {outPath} from {path} (epoch {epoch}{(m != null ? $", validation accuracy {m.ValAccuracy:P2}" : "")}): " +
                              $"ONNX Runtime agrees within 1e-5 + 1e-4·|x| (max_abs {TransferKit.FineTune.Reporting.Numbers.Fixed(report.MaxAbs)}); weights round-trip");
            return 0;
        });
        return cmd;
    }

    /// <summary>The exporter settings: the run's own unless the command line says otherwise.</summary>
    static ExportOptions ExportSettings(RunExporter exporter, bool foldBn, bool bakePreprocess) => new()
    {
        FoldBatchNorm = foldBn,
        BakePreprocess = bakePreprocess ? BakedPreprocessing.From(exporter.Preprocessing) : null,
    };

    /// <summary>A .tkc file as given; a run folder means its best checkpoint.</summary>
    static string Resolve(string path)
    {
        if (Directory.Exists(path))
        {
            var best = RunCheckpoint.BestPath(path);
            return File.Exists(best) ? best : throw new CliException($"'{path}' is a folder without {Path.Combine(RunCheckpoint.FolderName, Path.GetFileName(best))}; give a checkpoint file or a run folder.");
        }
        return File.Exists(path) ? path : throw new CliException($"Checkpoint '{path}' does not exist.");
    }

    /// <summary>The run's own check images while they exist, else seeded random inputs.</summary>
    static Tensor[] CheckInputs(ImportedModel model, RunCheckpoint saved)
    {
        if (saved.CheckImages.Length > 0 && saved.CheckImages.All(File.Exists))
            return [InputConvention.For(model, saved.Options.Preprocess).Load(saved.CheckImages, Math.Min(saved.CheckImages.Length, CheckBatch))];
        return Verifier.RandomInputs(model, CheckBatch, saved.Options.Seed);
    }
}
