using Onnx;

namespace TransferKit.Importers.Onnx.Export;

/// <summary>
/// Puts a model's input normalisation inside its graph: a 1×1 Conv in front of everything takes raw RGB 0–255
/// NCHW float input under the original input name and produces what the first layers expect — channel reorder,
/// range scaling and (x − mean)/std in one per-channel affine map (weight[c, source(c)] = range/255/std[c],
/// bias[c] = −mean[c]/std[c], other weights 0). A Conv is used because it means the same in every opset, so the
/// model keeps its original opset.
/// </summary>
public static class PreprocessBaking
{
    /// <summary>Metadata key saying what the input of a baked model is.</summary>
    public const string InputFormatKey = "transferkit.input_format";

    /// <summary>The value of <see cref="InputFormatKey"/>: raw RGB pixels in 0–255, planar, float32.</summary>
    public const string RawRgbFormat = "RGB 0-255 NCHW float32";

    /// <summary>Metadata key holding the normalisation that was baked in (JSON: order, range, mean, std).</summary>
    public const string BakedKey = "transferkit.baked_preprocessing";

    /// <summary>Prepends the normalisation to <paramref name="g"/> in place; returns the names of the Conv's weight and bias.</summary>
    /// <exception cref="ArgumentException">The model does not have exactly one 4-D input with 3 channels at axis 1.</exception>
    public static (string Weight, string Bias) Bake(GraphProto g, InputNormalization n, string modelFile)
    {
        n.Validate();
        if (g.Input.Count != 1)
            throw new ArgumentException($"{modelFile}: baking preprocessing needs a model with one input; it has {g.Input.Count} ({string.Join(", ", g.Input.Select(i => i.Name))}).");
        var input = g.Input[0];
        var dims = input.Type?.TensorType?.Shape?.Dim;
        if (dims == null || dims.Count != 4 || dims[1].DimValue != InputNormalization.Channels)
            throw new ArgumentException($"{modelFile}: baking preprocessing needs an N×3×H×W (NCHW RGB) input; input '{input.Name}' has shape " +
                $"[{(dims == null ? "unknown" : string.Join(",", dims.Select(d => d.HasDimValue ? d.DimValue.ToString() : d.DimParam.Length > 0 ? d.DimParam : "?")))}].");

        var normalized = BatchNormFolding.UniqueName(g, input.Name + "_normalized");
        foreach (var node in g.Node)
            for (int i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == input.Name) node.Input[i] = normalized;
        for (int o = 0; o < g.Output.Count; o++)
            if (g.Output[o].Name == input.Name)
                throw new ArgumentException($"{modelFile}: input '{input.Name}' is also a graph output; baking preprocessing would change that output.");

        const int c = InputNormalization.Channels;
        var w = new float[c * c];
        var b = new float[c];
        for (int o = 0; o < c; o++)
        {
            w[o * c + n.SourceChannel(o)] = (float)n.Scale(o);
            b[o] = (float)n.Shift(o);
        }
        var wName = BatchNormFolding.UniqueName(g, "transferkit_preprocess_weight");
        g.Initializer.Add(OnnxExporter.FloatTensor(wName, [c, c, 1, 1], w));
        var bName = BatchNormFolding.UniqueName(g, "transferkit_preprocess_bias");
        g.Initializer.Add(OnnxExporter.FloatTensor(bName, [c], b));
        var conv = new NodeProto { OpType = "Conv", Name = BatchNormFolding.UniqueName(g, "transferkit_preprocess") };
        conv.Input.AddRange([input.Name, wName, bName]);
        conv.Output.Add(normalized);
        conv.Attribute.Add(new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1 } });
        g.Node.Insert(0, conv);
        return (wName, bName);
    }

    /// <summary>The JSON stored under <see cref="BakedKey"/>.</summary>
    public static string Describe(InputNormalization n) => System.Text.Json.JsonSerializer.Serialize(new
    {
        order = n.Bgr ? "BGR" : "RGB",
        range = n.Range == 255 ? "0-255" : n.Range == 1 ? "0-1" : $"0-{n.Range}",
        mean = n.Mean,
        std = n.Std,
    });
}
