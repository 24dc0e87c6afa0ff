using System.Text.Json;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;
using TransferKit.Importers.Onnx;
using TransferKit.Importers.Onnx.Export;
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
        if (preset == null && RawRgb(model) is { } raw) return new(raw, "NCHW");
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

    /// <summary>
    /// A model exported with its preprocessing baked in takes raw RGB 0–255: no mean or std, with the resize and crop
    /// recorded in its <c>preprocessing</c> metadata (else an exact resize to the input size).
    /// </summary>
    static Preprocessing? RawRgb(ImportedModel model)
    {
        if (!model.Metadata.TryGetValue(PreprocessBaking.InputFormatKey, out var format) || format != PreprocessBaking.RawRgbFormat) return null;
        var dims = model.Inputs[0].Dims;
        int crop = dims.Length == 4 && dims[2] > 0 ? dims[2] : 224, resize = 0;
        if (model.Metadata.TryGetValue("preprocessing", out var json))
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.TryGetProperty("crop", out var c) && c.TryGetInt32(out var cv) && cv > 0) crop = cv;
            if (doc.RootElement.TryGetProperty("resize", out var r) && r.TryGetInt32(out var rv) && rv >= 0) resize = rv;
        }
        return new Preprocessing("raw-rgb-0-255", ChannelOrder.Rgb, ValueRange.Byte, [0f, 0f, 0f], [1f, 1f, 1f], resize, crop);
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

    /// <summary>
    /// Decodes and preprocesses images into one batch (images repeat cyclically up to <paramref name="batch"/>) through
    /// <paramref name="pipeline"/>, by default the evaluation pipeline; with <paramref name="decoded"/>, decoded images are kept there and read from there.
    /// </summary>
    public Tensor Load(IReadOnlyList<string> images, int batch, TransformPipeline? pipeline = null, DecodedImageCache? decoded = null)
    {
        if (images.Count == 0) throw new ArgumentException("No images given.");
        pipeline ??= Preprocessing.EvaluationPipeline();
        using var processor = new SampleProcessor { Cache = decoded };
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
