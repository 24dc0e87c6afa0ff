using Onnx;

namespace TransferKit.Tests.Common.Onnx;

/// <summary>How a builder writes hard-swish: as exporters spell it out, or as the opset-14 op.</summary>
public enum HardSwishForm
{
    /// <summary><c>x · Clip(x + 3, 0, 6) / 6</c> with scalar constant operands (paddle2onnx, older exporters).</summary>
    WrittenOut,
    /// <summary>The <c>HardSwish</c> op (opset 14 and later).</summary>
    Op,
}

/// <summary>
/// Layer-level helpers over <see cref="ModelBuilder"/> for building random-weight CNNs as exporters write them: weights
/// as initializers or as <c>Constant</c> nodes, Clip in its attribute form before opset 11 and its input form after.
/// Every tensor is seeded, so a model is the same on every run.
/// </summary>
public sealed class NetBuilder
{
    readonly Random _rng;
    int _next;

    public NetBuilder(int opset, bool weightsAsConstants, int seed = 0)
    {
        Opset = opset;
        WeightsAsConstants = weightsAsConstants;
        B = new ModelBuilder(opset);
        _rng = new Random(seed);
    }

    public ModelBuilder B { get; }

    public int Opset { get; }
    public bool WeightsAsConstants { get; }

    /// <summary>A fresh value name with a readable prefix.</summary>
    public string Name(string prefix) => $"{prefix}_{_next++}";

    /// <summary>A float tensor, as an initializer or as the output of a <c>Constant</c> node.</summary>
    public string Tensor(string prefix, long[] dims, float[] values)
    {
        var name = Name(prefix);
        if (!WeightsAsConstants) { B.Initializer(name, dims, values); return name; }
        var t = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        var n = B.Node("Constant", [], [name], name: name + "_const");
        n.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = t });
        return name;
    }

    /// <summary>A 1-D int64 initializer (axes, shapes, indices), always an initializer whatever the weight form.</summary>
    public string Longs(string prefix, long[] values, long[]? dims = null)
    {
        var name = Name(prefix);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(dims ?? [values.Length]); t.Int64Data.AddRange(values);
        B.Graph.Initializer.Add(t);
        return name;
    }

    /// <summary>A scalar constant (rank 0), always a <c>Constant</c> node when weights are.</summary>
    public string Scalar(string prefix, float value) => Tensor(prefix, [], [value]);

    /// <summary>Gaussian values with standard deviation <paramref name="std"/>.</summary>
    public float[] Gaussian(long count, double std, double mean = 0)
    {
        var v = new float[count];
        for (long i = 0; i < count; i++)
        {
            double u1 = 1 - _rng.NextDouble(), u2 = _rng.NextDouble();
            v[i] = (float)(mean + std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return v;
    }

    /// <summary>Uniform values in [lo, hi).</summary>
    public float[] Uniform(long count, double lo, double hi)
    {
        var v = new float[count];
        for (long i = 0; i < count; i++) v[i] = (float)(lo + (hi - lo) * _rng.NextDouble());
        return v;
    }

    /// <summary>A node with attributes; returns its single output.</summary>
    public string Op(string opType, string[] inputs, params AttributeProto[] attributes)
    {
        var y = Name(opType.ToLowerInvariant());
        var n = B.Node(opType, inputs, [y], name: y + "_node");
        n.Attribute.AddRange(attributes);
        return y;
    }

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>Conv with He-initialised weights (fan-in), optional bias.</summary>
    public string Conv(string x, int cin, int cout, int k, int stride = 1, int groups = 1, bool bias = false, int? pad = null)
    {
        long fanIn = cin / groups * k * k;
        var w = Tensor("w", [cout, cin / groups, k, k], Gaussian(cout * fanIn, Math.Sqrt(2.0 / fanIn)));
        var inputs = bias ? new[] { x, w, Tensor("b", [cout], Gaussian(cout, 0.1)) } : new[] { x, w };
        int p = pad ?? k / 2;
        return Op("Conv", inputs, ModelBuilder.Ints("kernel_shape", k, k), ModelBuilder.Ints("strides", stride, stride),
            ModelBuilder.Ints("pads", p, p, p, p), ModelBuilder.Int("group", groups), ModelBuilder.Ints("dilations", 1, 1));
    }

    /// <summary>BatchNormalization with random scale, bias and running statistics (variance positive).</summary>
    public string BatchNorm(string x, int c)
    {
        var scale = Tensor("bn_scale", [c], Uniform(c, 0.5, 1.5));
        var bias = Tensor("bn_bias", [c], Gaussian(c, 0.1));
        var mean = Tensor("bn_mean", [c], Gaussian(c, 0.1));
        var var_ = Tensor("bn_var", [c], Uniform(c, 0.5, 1.5));
        return Op("BatchNormalization", [x, scale, bias, mean, var_], Float("epsilon", 1e-5f), Float("momentum", 0.9f));
    }

    /// <summary>Clip(x, lo, hi): attributes before opset 11, constant inputs from opset 11.</summary>
    public string Clip(string x, float lo, float hi) => Opset < 11
        ? Op("Clip", [x], Float("min", lo), Float("max", hi))
        : Op("Clip", [x, Scalar("clip_min", lo), Scalar("clip_max", hi)]);

    public string HardSwish(string x, HardSwishForm form)
    {
        if (form == HardSwishForm.Op) return Op("HardSwish", [x]);
        var shifted = Op("Add", [x, Scalar("three", 3)]);
        var gate = Clip(shifted, 0, 6);
        var product = Op("Mul", [x, gate]);
        return Op("Div", [product, Scalar("six", 6)]);
    }

    /// <summary>SiLU as exporters write it: <c>x · Sigmoid(x)</c>.</summary>
    public string Silu(string x) => Op("Mul", [x, Op("Sigmoid", [x])]);

    /// <summary>Squeeze-excite: GlobalAveragePool → 1×1 Conv → Relu → 1×1 Conv → HardSigmoid → Mul with the block input.</summary>
    public string SqueezeExcite(string x, int c, int squeeze, bool batchNorm = false)
    {
        var pooled = Op("GlobalAveragePool", [x]);
        string Project(string v, int cin, int cout) => batchNorm ? BatchNorm(Conv(v, cin, cout, 1), cout) : Conv(v, cin, cout, 1, bias: true);
        var reduced = Op("Relu", [Project(pooled, c, squeeze)]);
        var gate = Op("HardSigmoid", [Project(reduced, squeeze, c)], Float("alpha", 0.2f), Float("beta", 0.5f));
        return Op("Mul", [x, gate]);
    }

    /// <summary>A classifier: Flatten then Gemm to <paramref name="classes"/> logits.</summary>
    public string Classifier(string x, int features, int classes)
    {
        var flat = Op("Flatten", [x], ModelBuilder.Int("axis", 1));
        var w = Tensor("fc_w", [classes, features], Gaussian((long)classes * features, Math.Sqrt(1.0 / features)));
        var b = Tensor("fc_b", [classes], Gaussian(classes, 0.01));
        return Op("Gemm", [flat, w, b], ModelBuilder.Int("transB", 1));
    }

    /// <summary>LayerNormalization (opset 17) over the last axis with random scale and bias.</summary>
    public string LayerNorm(string x, int c) => Op("LayerNormalization",
        [x, Tensor("ln_scale", [c], Uniform(c, 0.5, 1.5)), Tensor("ln_bias", [c], Gaussian(c, 0.1))],
        ModelBuilder.Int("axis", -1), Float("epsilon", 1e-6f));

    /// <summary>LayerNorm over the channels of an NCHW map as ConvNeXt writes it: Transpose to NHWC, normalise, back.</summary>
    public string LayerNorm2d(string x, int c) =>
        Op("Transpose", [LayerNorm(Op("Transpose", [x], ModelBuilder.Ints("perm", 0, 2, 3, 1)), c)], ModelBuilder.Ints("perm", 0, 3, 1, 2));

    /// <summary>A linear layer as PyTorch exports <c>nn.Linear</c> on a rank &gt; 2 input: MatMul by Wᵀ, then Add of the bias.</summary>
    public string Linear(string x, int cin, int cout)
    {
        var w = Tensor("linear_w", [cin, cout], Gaussian((long)cin * cout, Math.Sqrt(1.0 / cin)));
        return Op("Add", [Op("MatMul", [x, w]), Tensor("linear_b", [cout], Gaussian(cout, 0.02))]);
    }

    /// <summary>GELU in the Erf form exporters write: <c>x · 0.5 · (1 + erf(x / √2))</c>.</summary>
    public string GeluErf(string x)
    {
        var erf = Op("Erf", [Op("Div", [x, Scalar("sqrt2", MathF.Sqrt(2))])]);
        return Op("Mul", [Op("Mul", [x, Scalar("half", 0.5f)]), Op("Add", [erf, Scalar("one", 1)])]);
    }

    /// <summary>A string attribute.</summary>
    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(value) };

    /// <summary>
    /// Resize by constant scales [1, 1, s, s] as exporters write it: (X, scales) at opset 10, (X, roi, scales) from 11
    /// (an empty roi), with the given mode and, from 11, coordinate transform and nearest rounding.
    /// </summary>
    public string Resize(string x, float scale, string mode = "nearest", string coordinates = "asymmetric", string nearestMode = "floor")
    {
        var scales = Tensor("scales", [4], [1, 1, scale, scale]);
        if (Opset < 11) return Op("Resize", [x, scales], String("mode", mode));
        var attrs = new List<AttributeProto> { String("mode", mode), String("coordinate_transformation_mode", coordinates) };
        if (mode == "nearest") attrs.Add(String("nearest_mode", nearestMode));
        return Op("Resize", [x, Tensor("roi", [0], []), scales], attrs.ToArray());
    }

    /// <summary>ConvTranspose with k×k weights [cin, cout, k, k] (He-initialised over the fan-in per output), stride, pads, optional bias.</summary>
    public string ConvTranspose(string x, int cin, int cout, int k, int stride, int pad = 0, bool bias = false)
    {
        long fanIn = (long)cin * k * k / (stride * stride);
        var w = Tensor("wt", [cin, cout, k, k], Gaussian(cin * cout * k * k, Math.Sqrt(2.0 / Math.Max(1, fanIn))));
        var inputs = bias ? new[] { x, w, Tensor("bt", [cout], Gaussian(cout, 0.1)) } : new[] { x, w };
        return Op("ConvTranspose", inputs, ModelBuilder.Ints("kernel_shape", k, k), ModelBuilder.Ints("strides", stride, stride),
            ModelBuilder.Ints("pads", pad, pad, pad, pad), ModelBuilder.Ints("dilations", 1, 1), ModelBuilder.Int("group", 1));
    }

    /// <summary>Declares the graph's input and output and writes the model to a temporary file.</summary>
    public string Save(string input, long[] inputDims, string output, long[] outputDims, string fileName = "model.onnx")
    {
        B.Input(input, inputDims).Output(output, outputDims);
        return B.Save(fileName);
    }
}

/// <summary>Random-weight models of today's CNN families, built as their exporters write them.</summary>
public static class TestNets
{
    /// <summary>
    /// A MobileNetV3-Small-like classifier: a hard-swish stem, inverted residual blocks with depthwise convolutions,
    /// squeeze-excite (GlobalAveragePool → Conv → Relu → Conv → HardSigmoid → Mul), hard-swish written out or as the op,
    /// BatchNormalization after every block convolution, residual adds, then GlobalAveragePool → 1×1 Conv → hard-swish →
    /// Flatten → Gemm. Weights as <c>Constant</c> nodes (as paddle2onnx writes them) or as initializers.
    /// </summary>
    public static string MobileNetV3Small(int opset = 9, HardSwishForm form = HardSwishForm.WrittenOut, bool weightsAsConstants = true,
        int size = 64, int classes = 10, int seed = 0, bool batchNormEverywhere = false)
    {
        if (form == HardSwishForm.Op && opset < 14) throw new ArgumentException("HardSwish needs opset 14.");
        var n = new NetBuilder(opset, weightsAsConstants, seed);
        string x = "image";
        string ConvBn(string v, int cin, int cout, int k, int stride, int groups, string? act)
        {
            var y = n.BatchNorm(n.Conv(v, cin, cout, k, stride, groups), cout);
            return act switch { "relu" => n.Op("Relu", [y]), "hswish" => n.HardSwish(y, form), _ => y };
        }
        // Stem: 3×3 stride 2, 16 channels.
        var h = ConvBn(x, 3, 16, 3, 2, 1, "hswish");
        // (expand, out, kernel, stride, se, activation) as in MobileNetV3-Small's first blocks, narrowed.
        (int Exp, int Out, int K, int S, bool Se, string Act)[] blocks =
        [
            (16, 16, 3, 2, true, "relu"),
            (48, 24, 3, 2, false, "relu"),
            (56, 24, 3, 1, false, "relu"),
            (64, 32, 5, 2, true, "hswish"),
            (96, 32, 5, 1, true, "hswish"),
        ];
        int c = 16;
        foreach (var b in blocks)
        {
            var input = h;
            var e = b.Exp == c ? h : ConvBn(h, c, b.Exp, 1, 1, 1, b.Act);
            var d = ConvBn(e, b.Exp, b.Exp, b.K, b.S, b.Exp, b.Act);
            if (b.Se) d = n.SqueezeExcite(d, b.Exp, Math.Max(8, b.Exp / 4), batchNormEverywhere);
            var p = ConvBn(d, b.Exp, b.Out, 1, 1, 1, null);
            h = b.S == 1 && c == b.Out ? n.Op("Add", [input, p]) : p;
            c = b.Out;
        }
        h = ConvBn(h, c, 96, 1, 1, 1, "hswish");
        var pooled = n.Op("GlobalAveragePool", [h]);
        var last = n.HardSwish(batchNormEverywhere ? n.BatchNorm(n.Conv(pooled, 96, 128, 1), 128) : n.Conv(pooled, 96, 128, 1, bias: true), form);
        var logits = n.Classifier(last, 128, classes);
        return n.Save(x, [-1, 3, size, size], logits, [-1, classes]);
    }

    /// <summary>
    /// An EfficientNet-B0-like classifier as torchvision/timm export it (opset 13, initializers): a SiLU stem, MBConv
    /// blocks (1×1 expansion, depthwise k×k, squeeze-excite with SiLU and Sigmoid gates, 1×1 projection, residual add),
    /// SiLU written as <c>x · Sigmoid(x)</c>, batch norm after every block convolution, then 1×1 Conv → GlobalAveragePool
    /// → Flatten → Gemm.
    /// </summary>
    public static string EfficientNetB0(int size = 64, int classes = 10, int seed = 0)
    {
        var n = new NetBuilder(13, weightsAsConstants: false, seed);
        string ConvBn(string v, int cin, int cout, int k, int stride, int groups, bool act)
        {
            var y = n.BatchNorm(n.Conv(v, cin, cout, k, stride, groups), cout);
            return act ? n.Silu(y) : y;
        }
        string SqueezeExcite(string v, int c, int squeeze)
        {
            var pooled = n.Op("GlobalAveragePool", [v]);
            var reduced = n.Silu(n.Conv(pooled, c, squeeze, 1, bias: true));
            var gate = n.Op("Sigmoid", [n.Conv(reduced, squeeze, c, 1, bias: true)]);
            return n.Op("Mul", [v, gate]);
        }
        var h = ConvBn("image", 3, 16, 3, 2, 1, true);
        int c = 16;
        // (expansion ratio, out, kernel, stride) as EfficientNet-B0's first stages, narrowed.
        (int Ratio, int Out, int K, int S)[] blocks = [(1, 16, 3, 1), (4, 24, 3, 2), (4, 24, 3, 1), (4, 40, 5, 2), (4, 40, 5, 1)];
        foreach (var b in blocks)
        {
            var input = h;
            int exp = c * b.Ratio;
            var e = b.Ratio == 1 ? h : ConvBn(h, c, exp, 1, 1, 1, true);
            var d = ConvBn(e, exp, exp, b.K, b.S, exp, true);
            d = SqueezeExcite(d, exp, Math.Max(4, c / 4));
            var p = ConvBn(d, exp, b.Out, 1, 1, 1, false);
            h = b.S == 1 && c == b.Out ? n.Op("Add", [input, p]) : p;
            c = b.Out;
        }
        h = ConvBn(h, c, 128, 1, 1, 1, true);
        var pooled = n.Op("GlobalAveragePool", [h]);
        var logits = n.Classifier(pooled, 128, classes);
        return n.Save("image", [-1, 3, size, size], logits, [-1, classes]);
    }

    /// <summary>
    /// A token MLP with the LayerNorm exporters write out op by op (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div,
    /// Mul, Add) and an erf-form GELU: x [2, 5, 8] → MatMul → LayerNorm → GELU → ReduceMean over tokens → Gemm. Axes as
    /// an attribute below opset 18, as an input from it.
    /// </summary>
    public static string DecomposedLayerNorm(int opset)
    {
        var n = new NetBuilder(opset, weightsAsConstants: false, seed: 3);
        const int tokens = 5, width = 8, classes = 3;
        var w = n.Tensor("w", [width, width], n.Gaussian(width * width, Math.Sqrt(1.0 / width)));
        var h = n.Op("MatMul", ["x", w]);
        string Mean(string v) => opset >= 18
            ? n.Op("ReduceMean", [v, n.Longs("axes", [-1])], ModelBuilder.Int("keepdims", 1))
            : n.Op("ReduceMean", [v], ModelBuilder.Ints("axes", -1), ModelBuilder.Int("keepdims", 1));
        var mu = Mean(h);
        var d = n.Op("Sub", [h, mu]);
        var variance = Mean(n.Op("Pow", [d, n.Scalar("two", 2)]));
        var std = n.Op("Sqrt", [n.Op("Add", [variance, n.Scalar("eps", 1e-5f)])]);
        var normed = n.Op("Div", [d, std]);
        var ln = n.Op("Add", [n.Op("Mul", [normed, n.Tensor("gamma", [width], n.Uniform(width, 0.5, 1.5))]), n.Tensor("beta", [width], n.Gaussian(width, 0.1))]);
        // GELU in its Erf form: 0.5·x·(1 + erf(x/√2)).
        var erf = n.Op("Erf", [n.Op("Div", [ln, n.Scalar("sqrt2", MathF.Sqrt(2))])]);
        var gelu = n.Op("Mul", [n.Op("Mul", [ln, n.Op("Add", [erf, n.Scalar("one", 1)])]), n.Scalar("half", 0.5f)]);
        var pooled = opset >= 18
            ? n.Op("ReduceMean", [gelu, n.Longs("axes", [1])], ModelBuilder.Int("keepdims", 0))
            : n.Op("ReduceMean", [gelu], ModelBuilder.Ints("axes", 1), ModelBuilder.Int("keepdims", 0));
        var fc = n.Tensor("fc", [classes, width], n.Gaussian(classes * width, Math.Sqrt(1.0 / width)));
        var logits = n.Op("Gemm", [pooled, fc], ModelBuilder.Int("transB", 1));
        return n.Save("x", [2, tokens, width], logits, [2, classes]);
    }

    /// <summary>
    /// A ConvNeXt-like classifier as torchvision exports it (opset 17, initializers): a 4×4 stride-4 patch stem and
    /// LayerNorm over channels (through Transpose), blocks of depthwise 7×7 → NHWC → LayerNorm → Linear → GELU (Erf form)
    /// → Linear → layer scale (Mul by a per-channel weight) → NCHW → residual Add, a LayerNorm + 2×2 stride-2 downsampling,
    /// then GlobalAveragePool → Flatten → LayerNorm → Gemm.
    /// </summary>
    public static string ConvNeXt(int size = 64, int classes = 10, int seed = 0)
    {
        var n = new NetBuilder(17, weightsAsConstants: false, seed);
        string Block(string x, int c)
        {
            var dw = n.Conv(x, c, c, 7, groups: c, bias: true);
            var t = n.LayerNorm(n.Op("Transpose", [dw], ModelBuilder.Ints("perm", 0, 2, 3, 1)), c);
            var mlp = n.Linear(n.GeluErf(n.Linear(t, c, 4 * c)), 4 * c, c);
            var scaled = n.Op("Mul", [mlp, n.Tensor("layer_scale", [c], n.Uniform(c, 0.05, 0.2))]);
            return n.Op("Add", [x, n.Op("Transpose", [scaled], ModelBuilder.Ints("perm", 0, 3, 1, 2))]);
        }
        const int c1 = 24, c2 = 48;
        var h = n.LayerNorm2d(n.Conv("image", 3, c1, 4, stride: 4, bias: true, pad: 0), c1);
        h = Block(Block(h, c1), c1);
        h = n.Conv(n.LayerNorm2d(h, c1), c1, c2, 2, stride: 2, bias: true, pad: 0);
        h = Block(h, c2);
        var pooled = n.Op("Flatten", [n.Op("GlobalAveragePool", [h])], ModelBuilder.Int("axis", 1));
        var logits = n.Classifier(n.LayerNorm(pooled, c2), c2, classes);
        return n.Save("image", [-1, 3, size, size], logits, [-1, classes]);
    }

    /// <summary>
    /// A ViT-Tiny-like encoder as PyTorch exports it (opset 17, initializers): a 16×16 stride-16 patch Conv, tokens
    /// through Reshape and Transpose, a cls token expanded to the batch (<c>Shape → Gather → Unsqueeze → Concat →
    /// Expand</c>) and concatenated in front, a position embedding added, pre-norm blocks of multi-head attention
    /// (Linear q, k, v → Reshape/Transpose to heads → batched MatMul → scale → Softmax → MatMul → back → Linear, residual)
    /// and a GELU MLP (residual), a final LayerNorm, the cls token picked by Gather, and a Gemm classifier. With
    /// <paramref name="linearHead"/> the cls token is picked first and the head is LayerNorm → MatMul + Add (as
    /// <c>nn.Linear</c> exports on a token), the head node then being a MatMul with a separate bias.
    /// </summary>
    public static string VitTiny(int size = 64, int classes = 10, int seed = 0, int width = 32, int heads = 2, int depth = 2, bool linearHead = false)
    {
        const int patch = 16;
        var n = new NetBuilder(17, weightsAsConstants: false, seed);
        int grid = size / patch, tokens = grid * grid + 1, headDim = width / heads;
        var patches = n.Conv("image", 3, width, patch, stride: patch, bias: true, pad: 0);
        var seq = n.Op("Transpose", [n.Op("Reshape", [patches, n.Longs("shape", [0, width, -1])])], ModelBuilder.Ints("perm", 0, 2, 1));
        var batch = n.Op("Unsqueeze", [n.Op("Gather", [n.Op("Shape", ["image"]), n.Longs("index", [0], [])], ModelBuilder.Int("axis", 0)), n.Longs("axes", [0])]);
        var target = n.Op("Concat", [batch, n.Longs("ones", [1, 1])], ModelBuilder.Int("axis", 0));
        var cls = n.Op("Expand", [n.Tensor("cls_token", [1, 1, width], n.Gaussian(width, 0.02)), target]);
        var h = n.Op("Concat", [cls, seq], ModelBuilder.Int("axis", 1));
        h = n.Op("Add", [h, n.Tensor("pos_embedding", [1, tokens, width], n.Gaussian((long)tokens * width, 0.02))]);
        string Heads(string v, params long[] perm) =>
            n.Op("Transpose", [n.Op("Reshape", [v, n.Longs("shape", [0, tokens, heads, headDim])])], ModelBuilder.Ints("perm", perm));
        for (int b = 0; b < depth; b++)
        {
            var x = n.LayerNorm(h, width);
            var q = Heads(n.Linear(x, width, width), 0, 2, 1, 3);
            var k = Heads(n.Linear(x, width, width), 0, 2, 3, 1);
            var v = Heads(n.Linear(x, width, width), 0, 2, 1, 3);
            var scores = n.Op("Mul", [n.Op("MatMul", [q, k]), n.Scalar("scale", 1 / MathF.Sqrt(headDim))]);
            var attn = n.Op("MatMul", [n.Op("Softmax", [scores], ModelBuilder.Int("axis", -1)), v]);
            var merged = n.Op("Reshape", [n.Op("Transpose", [attn], ModelBuilder.Ints("perm", 0, 2, 1, 3)), n.Longs("shape", [0, tokens, width])]);
            h = n.Op("Add", [h, n.Linear(merged, width, width)]);
            var mlp = n.Linear(n.GeluErf(n.Linear(n.LayerNorm(h, width), width, 2 * width)), 2 * width, width);
            h = n.Op("Add", [h, mlp]);
        }
        if (linearHead)
        {
            var picked = n.Op("Gather", [h, n.Longs("cls_index", [0], [])], ModelBuilder.Int("axis", 1));
            var linear = n.Linear(n.LayerNorm(picked, width), width, classes);
            return n.Save("image", [-1, 3, size, size], linear, [-1, classes]);
        }
        var clsOut = n.Op("Gather", [n.LayerNorm(h, width), n.Longs("cls_index", [0], [])], ModelBuilder.Int("axis", 1));
        var logits = n.Op("Gemm", [clsOut, n.Tensor("fc_w", [classes, width], n.Gaussian((long)classes * width, Math.Sqrt(1.0 / width))),
            n.Tensor("fc_b", [classes], n.Gaussian(classes, 0.01))], ModelBuilder.Int("transB", 1));
        return n.Save("image", [-1, 3, size, size], logits, [-1, classes]);
    }

    /// <summary>
    /// A tiny dense-prediction net shaped like the PP-OCRv4 text detector (DB) as paddle2onnx writes it (opset 11,
    /// weights in <c>Constant</c> nodes): a strided backbone (Conv → BatchNormalization → Relu or written-out
    /// hard-swish) to 1/4, 1/8 and 1/16, 1×1 lateral convolutions, a top-down FPN path (nearest Resize ×2 asymmetric
    /// floor, Add), 3×3 output convolutions, the coarser maps brought up by nearest ×2 and ×4 and by a linear
    /// half-pixel ×2 Resize, Concat, then the head: 3×3 Conv → BatchNormalization → Relu, two 2×2 stride-2
    /// ConvTransposes (the first with batch norm and Relu, the last with bias) and a Sigmoid, giving a per-pixel map
    /// [N, 1, size, size]. The output is not a classifier: its gradient check uses the mean-squared-error loss.
    /// </summary>
    public static string TinyFpn(int size = 64, int seed = 0)
    {
        if (size % 16 != 0) throw new ArgumentException("The tiny FPN needs a size divisible by 16.");
        var n = new NetBuilder(11, weightsAsConstants: true, seed);
        string ConvBn(string v, int cin, int cout, int k, int stride, string act)
        {
            var y = n.BatchNorm(n.Conv(v, cin, cout, k, stride), cout);
            return act == "relu" ? n.Op("Relu", [y]) : n.HardSwish(y, HardSwishForm.WrittenOut);
        }
        const int f = 8;
        var stem = ConvBn("image", 3, 8, 3, 2, "hswish");        // 1/2
        var c1 = ConvBn(stem, 8, 8, 3, 2, "relu");               // 1/4
        var c2 = ConvBn(c1, 8, 12, 3, 2, "relu");                // 1/8
        var c3 = ConvBn(c2, 12, 16, 3, 2, "hswish");             // 1/16
        var l1 = n.Conv(c1, 8, f, 1); var l2 = n.Conv(c2, 12, f, 1); var l3 = n.Conv(c3, 16, f, 1);
        var p2 = n.Op("Add", [l2, n.Resize(l3, 2)]);
        var p1 = n.Op("Add", [l1, n.Resize(p2, 2)]);
        var o3 = n.Conv(l3, f, f / 2, 3); var o2 = n.Conv(p2, f, f / 2, 3); var o1 = n.Conv(p1, f, f / 2, 3);
        var fused = n.Op("Concat", [n.Resize(o3, 4), n.Resize(o2, 2, "linear", "half_pixel"), o1], ModelBuilder.Int("axis", 1));
        var h = ConvBn(fused, 3 * f / 2, f, 3, 1, "relu");       // 1/4
        h = n.Op("Relu", [n.BatchNorm(n.ConvTranspose(h, f, f, 2, 2), f)]);   // 1/2
        var logits = n.ConvTranspose(h, f, 1, 2, 2, bias: true);
        var map = n.Op("Sigmoid", [logits]);
        return n.Save("image", [-1, 3, size, size], map, [-1, 1, size, size]);
    }

    /// <summary>
    /// Concats of convolutions, as SqueezeNet's fire modules and Inception blocks write them (opset 14, initializers):
    /// a few-channel stem, a fire module (1×1 squeeze → Relu; Concat of a 1×1 expand → Relu and a 3×3 expand → batch
    /// norm → hard-swish, Winograd at batch 2), then an Inception-like Concat of a plain 1×1 convolution, a 5×5 one →
    /// Relu, a 3×3 max pool, a depthwise 3×3 → Relu and the squeeze output (read by three nodes), then Dropout →
    /// GlobalAveragePool → Flatten → Gemm.
    /// </summary>
    public static string FireAndInception(int size = 32, int classes = 10, int seed = 0)
    {
        var n = new NetBuilder(14, weightsAsConstants: false, seed);
        var stem = n.Op("Relu", [n.Conv("image", 3, 16, 3, 2, bias: true)]);
        var squeeze = n.Op("Relu", [n.Conv(stem, 16, 8, 1, bias: true)]);
        var e1 = n.Op("Relu", [n.Conv(squeeze, 8, 16, 1, bias: true)]);
        var e3 = n.HardSwish(n.BatchNorm(n.Conv(squeeze, 8, 16, 3), 16), HardSwishForm.Op);
        var fire = n.Op("Concat", [e1, e3], ModelBuilder.Int("axis", 1));
        var b1 = n.Conv(fire, 32, 8, 1);
        var b2 = n.Op("Relu", [n.Conv(fire, 32, 8, 5, bias: true)]);
        var pool = n.Op("MaxPool", [fire], ModelBuilder.Ints("kernel_shape", 3, 3), ModelBuilder.Ints("strides", 1, 1), ModelBuilder.Ints("pads", 1, 1, 1, 1));
        var dw = n.Op("Relu", [n.Conv(fire, 32, 32, 3, groups: 32, bias: true)]);
        var inception = n.Op("Concat", [b1, b2, pool, dw, squeeze], ModelBuilder.Int("axis", 1));
        var pooled = n.Op("GlobalAveragePool", [n.Op("Dropout", [inception])]);
        var logits = n.Classifier(pooled, 88, classes);
        return n.Save("image", [-1, 3, size, size], logits, [-1, classes]);
    }
}
