using Onnx;
using TransferKit.Importers.Onnx;

namespace TransferKit.Importers.Tests;

/// <summary>
/// Where the ONNX operator conformance data is, and the one place that says which in-scope cases are not expected to
/// run and why. An excluded case must still be refused with a clear import error (checked by the test).
/// </summary>
public static class Conformance
{
    public const string EnvironmentVariable = "TRANSFERKIT_ONNX_TESTDATA";
    public const string DefaultRoot = "/usr/share/libonnx-testdata/data/node";

    public static string Root
    {
        get
        {
            var root = Environment.GetEnvironmentVariable(EnvironmentVariable) ?? DefaultRoot;
            if (!Directory.Exists(root))
                throw new DirectoryNotFoundException(
                    $"ONNX conformance data not found at '{root}'. Install it with 'apt-get install -y libonnx-testdata' or set {EnvironmentVariable}.");
            return root;
        }
    }

    /// <summary>Cases excluded by name → reason.</summary>
    public static readonly IReadOnlyDictionary<string, string> Excluded = new Dictionary<string, string>
    {
        ["test_averagepool_3d_default"] = "3-D pooling: TransferKit supports 1-D and 2-D windows (image CNNs)",
        ["test_maxpool_3d_default"] = "3-D pooling: TransferKit supports 1-D and 2-D windows (image CNNs)",
        ["test_maxpool_with_argmax_2d_precomputed_pads"] = "MaxPool's optional Indices output (int64) is not produced",
        ["test_maxpool_with_argmax_2d_precomputed_strides"] = "MaxPool's optional Indices output with storage_order=1 is not produced",
        ["test_batchnorm_epsilon_training_mode"] = "BatchNormalization with training_mode=1 inside the graph; training mode is chosen by the trainer, not by the file",
        ["test_batchnorm_example_training_mode"] = "BatchNormalization with training_mode=1 inside the graph; training mode is chosen by the trainer, not by the file",
        ["test_training_dropout"] = "Dropout with training_mode=true inside the graph (random masks); training mode is chosen by the trainer",
        ["test_training_dropout_default"] = "Dropout with training_mode=true inside the graph (random masks); training mode is chosen by the trainer",
        ["test_training_dropout_default_mask"] = "Dropout with training_mode=true inside the graph (random masks); training mode is chosen by the trainer",
        ["test_training_dropout_mask"] = "Dropout with training_mode=true inside the graph (random masks); training mode is chosen by the trainer",
        ["test_cast_FLOAT_to_BFLOAT16"] = "cast of a run-time tensor to another element type: TransferKit graphs are float32 throughout",
        ["test_cast_FLOAT_to_DOUBLE"] = "cast of a run-time tensor to another element type: TransferKit graphs are float32 throughout",
        ["test_cast_FLOAT_to_FLOAT16"] = "cast of a run-time tensor to another element type: TransferKit graphs are float32 throughout",
        ["test_cast_FLOAT_to_STRING"] = "cast of a run-time tensor to another element type: TransferKit graphs are float32 throughout",
        ["test_castlike_FLOAT_to_BFLOAT16_expanded"] = "cast of a run-time tensor to another element type: TransferKit graphs are float32 throughout",
        ["test_castlike_FLOAT_to_DOUBLE_expanded"] = "cast of a run-time tensor to another element type: TransferKit graphs are float32 throughout",
        ["test_castlike_FLOAT_to_FLOAT16_expanded"] = "cast of a run-time tensor to another element type: TransferKit graphs are float32 throughout",
        ["test_castlike_FLOAT_to_STRING_expanded"] = "string tensors are not supported",
        ["test_resize_downsample_scales_cubic"] = "Resize mode cubic: TransferKit interpolates nearest and linear (the modes CNN necks and decoders use)",
        ["test_resize_downsample_scales_cubic_A_n0p5_exclude_outside"] = "Resize mode cubic: TransferKit interpolates nearest and linear (the modes CNN necks and decoders use)",
        ["test_resize_downsample_scales_cubic_align_corners"] = "Resize mode cubic: TransferKit interpolates nearest and linear (the modes CNN necks and decoders use)",
        ["test_resize_downsample_sizes_cubic"] = "Resize mode cubic: TransferKit interpolates nearest and linear (the modes CNN necks and decoders use)",
        ["test_resize_upsample_scales_cubic"] = "Resize mode cubic: TransferKit interpolates nearest and linear (the modes CNN necks and decoders use)",
        ["test_resize_upsample_scales_cubic_A_n0p5_exclude_outside"] = "Resize mode cubic: TransferKit interpolates nearest and linear (the modes CNN necks and decoders use)",
        ["test_resize_upsample_scales_cubic_align_corners"] = "Resize mode cubic: TransferKit interpolates nearest and linear (the modes CNN necks and decoders use)",
        ["test_resize_upsample_scales_cubic_asymmetric"] = "Resize mode cubic: TransferKit interpolates nearest and linear (the modes CNN necks and decoders use)",
        ["test_resize_upsample_sizes_cubic"] = "Resize mode cubic: TransferKit interpolates nearest and linear (the modes CNN necks and decoders use)",
        ["test_convtranspose_3d"] = "3-D transposed convolution: TransferKit supports 1-D and 2-D windows (image CNNs)",
    };

    /// <summary>Why a case is not run, or null when it must pass.</summary>
    public static string? ExclusionReason(string dir, ModelProto model)
    {
        var name = Path.GetFileName(dir);
        if (Excluded.TryGetValue(name, out var reason)) return reason;
        var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 0;
        if (opset < OnnxImporter.MinOpset) return $"opset {opset} is below the supported range {OnnxImporter.MinOpset}–{OnnxImporter.MaxOpset}";
        var first = model.Graph.Input.FirstOrDefault(i => model.Graph.Initializer.All(t => t.Name != i.Name));
        if (first != null && first.Type?.TensorType == null) return "sequence and optional values are not supported (image CNNs use tensors only)";
        var type = (OnnxDataType)(first?.Type?.TensorType?.ElemType ?? 1);
        if (type is not (OnnxDataType.Float or OnnxDataType.Float16 or OnnxDataType.Double))
            return $"integer-only variant ({type} data): TransferKit computes in float32";
        return null;
    }
}
