using System.Text.Json;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;
using TransferKit.FineTune.Catalog;
using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Heads;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Verification;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Training;

/// <summary>
/// Exports a fine-tuned model the way a run does: the softmax restored, the class labels, preprocessing and base model
/// in the metadata, written to a staging file, checked against ONNX Runtime (outputs within tolerance, weights round
/// trip) and only then moved into place. Used by the fine-tune job (tuned.onnx) and by <c>transferkit export</c>.
/// </summary>
public sealed class RunExporter
{
    public required ImportedModel Model { get; init; }
    public required Head Head { get; init; }
    /// <summary>Class names, in output order.</summary>
    public required IReadOnlyList<string> Labels { get; init; }
    public required Preprocessing Preprocessing { get; init; }
    /// <summary>The pretrained model the run started from (its file name goes into the metadata).</summary>
    public required string BaseModel { get; init; }

    /// <summary>
    /// Re-creates a run's model from one of its checkpoints: the base model (from <paramref name="baseModel"/> when given,
    /// else where the run found it), the new head as the run's options made it, and the checkpoint's weights.
    /// </summary>
    public static RunExporter FromCheckpoint(RunCheckpoint checkpoint, string? baseModel = null)
    {
        var o = checkpoint.Options;
        var path = baseModel ?? o.Model;
        if (!File.Exists(path))
            throw new FileNotFoundException(baseModel != null
                ? $"Base model '{path}' does not exist."
                : $"The run's base model '{path}' is no longer there; give its new path with --model.", path);
        var model = OnnxImporter.Import(path);
        var head = Head.Find(model.Graph, o.Head);
        head.Replace(checkpoint.ClassCount, HeadInitializer.Kaiming, o.Seed);
        checkpoint.RestoreParameters(model.Graph.Parameters);
        var pre = InputConvention.For(model, o.Preprocess).Preprocessing;
        return new RunExporter { Model = model, Head = head, Labels = checkpoint.Classes, Preprocessing = pre, BaseModel = o.Model };
    }

    /// <summary>The metadata every exported run model carries.</summary>
    public IReadOnlyDictionary<string, string> Metadata()
    {
        var pre = Preprocessing;
        return new Dictionary<string, string>
        {
            ["labels"] = JsonSerializer.Serialize(Labels),
            ["preprocessing"] = JsonSerializer.Serialize(new { name = pre.Name, order = pre.Order.ToString().ToUpperInvariant(), range = pre.Range == ValueRange.Byte ? "0-255" : "0-1", mean = pre.Mean, std = pre.Std, resize = pre.ResizeShorterSide, crop = pre.CropSize, channels = pre.Channels }),
            ["transferkit.base_model"] = Path.GetFileName(BaseModel),
        };
    }

    /// <summary>
    /// Writes the model to <paramref name="path"/> after checking it against ONNX Runtime on <paramref name="checkInputs"/>.
    /// <paramref name="options"/> carries exporter settings through (its metadata entries are added to the run's).
    /// Throws, leaving no file at <paramref name="path"/>, when the check fails.
    /// </summary>
    public ExportReport Export(string path, IReadOnlyList<Tensor> checkInputs, ExportOptions? options = null)
    {
        Head.RestoreSoftmax(Model.Graph, Head);
        var metadata = new Dictionary<string, string>(Metadata());
        foreach (var (k, v) in options?.Metadata ?? new Dictionary<string, string>()) metadata[k] = v;
        var staging = path + ".check";
        var export = OnnxExporter.Save(Model, staging, (options ?? new ExportOptions()) with { Metadata = metadata });
        var check = ExportCheck.Verify(Model.Graph, staging, checkInputs, export);
        if (!check.Passed)
        {
            File.Delete(staging);
            throw new InvalidOperationException($"Export check failed for {path}: ONNX Runtime max_abs {TransferKit.FineTune.Reporting.Numbers.Fixed(check.MaxAbs, 4)} max_rel {TransferKit.FineTune.Reporting.Numbers.Fixed(check.MaxRel, 4)}{(check.WeightMismatch != null ? "; " + check.WeightMismatch : "")}. The file was not written.");
        }
        File.Move(staging, path, overwrite: true);
        return check;
    }
}
