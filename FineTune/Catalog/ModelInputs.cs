using System.Text.Json;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;
using TransferKit.Importers.Onnx;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.FineTune.Catalog;

/// <summary>How to turn images into a model's input tensor: its preprocessing and layout.</summary>
public sealed record InputConvention(Preprocessing Preprocessing, string Layout)
{
    /// <summary>
    /// The convention for a model: an explicit preset wins; otherwise the catalogue entry; otherwise a guess from the
    /// input shape (1×28×28 → mnist, else torchvision-imagenet) — reported so the user can override it.
    /// </summary>
    public static InputConvention For(ImportedModel model, string? preset, ModelCatalog? catalog = null)
    {
        var entry = (catalog ?? ModelCatalog.Default).Identify(model.File);
        string layout = entry?.Input.Layout ?? "NCHW";
        if (preset != null) return new(Preprocessing.Get(preset), layout);
        if (entry != null) return new(FromCatalog(entry), layout);
        var dims = model.Inputs[0].Dims;
        if (dims.Length == 4 && dims[1] == 1) return new(Preprocessing.Mnist with { CropSize = dims[2] > 0 ? dims[2] : 28 }, layout);
        var p = Preprocessing.TorchvisionImageNet;
        if (dims.Length == 4 && dims[2] > 0 && dims[2] != p.CropSize) p = p with { CropSize = dims[2], ResizeShorterSide = 0 };
        return new(p, layout);
    }

    static Preprocessing FromCatalog(CatalogEntry e)
    {
        if (e.Preprocessing.ValueKind == JsonValueKind.String) return Preprocessing.Get(e.Preprocessing.GetString()!);
        var o = e.Preprocessing;
        float[] Floats(string name) => o.GetProperty(name).EnumerateArray().Select(v => v.GetSingle()).ToArray();
        return new Preprocessing(
            e.Name,
            o.GetProperty("order").GetString()!.Equals("BGR", StringComparison.OrdinalIgnoreCase) ? ChannelOrder.Bgr : ChannelOrder.Rgb,
            o.GetProperty("range").GetString() == "0-255" ? ValueRange.Byte : ValueRange.Unit,
            Floats("mean"), Floats("std"), o.GetProperty("resize").GetInt32(), o.GetProperty("crop").GetInt32(), e.Input.Channels);
    }

    /// <summary>Decodes and preprocesses images into one batch (images repeat cyclically up to <paramref name="batch"/>).</summary>
    public Tensor Load(IReadOnlyList<string> images, int batch)
    {
        if (images.Count == 0) throw new ArgumentException("No images given.");
        var pipeline = Preprocessing.EvaluationPipeline();
        using var processor = new SampleProcessor();
        Tensor? t = null;
        for (int i = 0; i < batch; i++)
        {
            var s = processor.Process(SampleSource.File(images[i % images.Count]), pipeline, 0, 0, i);
            int c = s.Channels, h = s.Height, w = s.Width;
            t ??= Layout == "NHWC" ? new Tensor(batch, h, w, c) : new Tensor(batch, c, h, w);
            var dst = t.Span.Slice(i * c * h * w, c * h * w);
            if (Layout == "NHWC")
                for (int ch = 0; ch < c; ch++)
                    for (int p = 0; p < h * w; p++) dst[p * c + ch] = s.Pixels[ch * h * w + p];
            else s.Pixels.CopyTo(dst);
        }
        return t!;
    }
}
