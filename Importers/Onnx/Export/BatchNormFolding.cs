using Onnx;

namespace TransferKit.Importers.Onnx.Export;

/// <summary>
/// Folds inference-mode BatchNormalization into the Conv or Gemm right before it, in an exported graph. With
/// s = scale/√(var + ε): Conv W′[m] = W[m]·s[m], b′ = (b − mean)·s + B (b = 0 when the Conv had no bias, which it
/// then gets); Gemm scales B's output columns by s and C′ = (β·C − mean)·s + B with β set to 1. A batch norm is
/// folded only when its input comes straight from a Conv/Gemm whose output nothing else reads, all its inputs and
/// the weights are initializers read by no other node, and it is in inference form (no training_mode, spatial,
/// or extra outputs). Arithmetic in double, stored as float32.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>Folds in place; returns the folded pairs and the initializer names whose values changed or went away.</summary>
    public static (List<(string BatchNorm, string Into)> Folded, HashSet<string> Rewritten) Fold(GraphProto g, int opset, string modelFile)
    {
        var folded = new List<(string, string)>();
        var rewritten = new HashSet<string>();
        var inits = g.Initializer.ToDictionary(t => t.Name);
        var graphOutputs = g.Output.Select(o => o.Name).ToHashSet();
        // Folding never changes how often a value is read (the Conv takes over the batch norm's output name).
        var readers = Readers(g);
        foreach (var bn in g.Node.Where(n => n.OpType == "BatchNormalization" && n.Domain is "" or "ai.onnx").ToList())
        {
            if (Foldable(g, bn, inits, graphOutputs, readers) is not { } prev) continue;
            double eps = Attr(bn, "epsilon")?.F ?? 1e-5;
            var scale = Read(inits[bn.Input[1]], modelFile); var bias = Read(inits[bn.Input[2]], modelFile);
            var mean = Read(inits[bn.Input[3]], modelFile); var variance = Read(inits[bn.Input[4]], modelFile);
            int m = scale.Length;
            var s = new double[m];
            for (int c = 0; c < m; c++) s[c] = scale[c] / Math.Sqrt(variance[c] + eps);

            var wName = prev.Input[1];
            var w = inits[wName];
            var wv = Read(w, modelFile);
            bool isConv = prev.OpType == "Conv";
            bool transB = !isConv && (Attr(prev, "transB")?.I ?? 0) != 0;
            int outputs = isConv ? (int)w.Dims[0] : (int)(transB ? w.Dims[0] : w.Dims[1]);
            if (outputs != m || mean.Length != m || variance.Length != m || bias.Length != m) continue;
            bool hasBias = prev.Input.Count > 2 && prev.Input[2].Length > 0;
            var b = hasBias ? Read(inits[prev.Input[2]], modelFile) : [];
            if (hasBias && b.Length != m && (isConv || b.Length != 1)) continue;

            // Weights: output channel o is a block of the Conv weight, a row of Gemm B (transB) or a column of it.
            var wNew = new float[wv.Length];
            int per = wv.Length / m;
            for (int i = 0; i < wv.Length; i++)
            {
                int o = isConv || transB ? i / per : i % m;
                wNew[i] = (float)(wv[i] * s[o]);
            }
            // Bias: the old one (Conv b, or Gemm β·C broadcast over the outputs), shifted and scaled.
            double[] old = new double[m];
            if (hasBias)
            {
                double beta = isConv ? 1 : Attr(prev, "beta")?.F ?? 1;
                for (int c = 0; c < m; c++) old[c] = beta * b[b.Length == 1 ? 0 : c];
            }
            var bNew = new float[m];
            for (int c = 0; c < m; c++) bNew[c] = (float)((old[c] - mean[c]) * s[c] + bias[c]);

            Replace(g, inits, OnnxExporter.FloatTensor(wName, w.Dims.Select(d => (int)d).ToArray(), wNew));
            rewritten.Add(wName);
            string bName;
            if (hasBias)
            {
                bName = prev.Input[2];
                rewritten.Add(bName);
                Replace(g, inits, OnnxExporter.FloatTensor(bName, [m], bNew));
            }
            else
            {
                bName = UniqueName(g, (string.IsNullOrEmpty(prev.Name) ? wName : prev.Name) + "_bn_bias");
                var t = OnnxExporter.FloatTensor(bName, [m], bNew);
                g.Initializer.Add(t);
                inits[bName] = t;
                while (prev.Input.Count < 3) prev.Input.Add("");
                prev.Input[2] = bName;
            }
            if (!isConv)
            {
                SetFloat(prev, "beta", 1f);
                if (opset < 7) SetInt(prev, "broadcast", 1);
            }
            for (int i = 1; i < 5; i++) rewritten.Add(bn.Input[i]);
            // The Conv/Gemm now writes the batch norm's output; the batch norm goes.
            prev.Output[0] = bn.Output[0];
            g.Node.Remove(bn);
            folded.Add((string.IsNullOrEmpty(bn.Name) ? bn.Output[0] : bn.Name, string.IsNullOrEmpty(prev.Name) ? prev.Output[0] : prev.Name));
        }
        // Batch-norm statistics nothing reads any more.
        var used = g.Node.SelectMany(n => n.Input).ToHashSet();
        foreach (var t in g.Initializer.Where(t => rewritten.Contains(t.Name) && !used.Contains(t.Name)).ToList()) g.Initializer.Remove(t);
        return (folded, rewritten);
    }

    /// <summary>The Conv or Gemm that <paramref name="bn"/> can fold into, or null.</summary>
    static NodeProto? Foldable(GraphProto g, NodeProto bn, Dictionary<string, TensorProto> inits, HashSet<string> graphOutputs, Dictionary<string, int> readers)
    {
        if ((Attr(bn, "training_mode")?.I ?? 0) != 0 || (Attr(bn, "spatial")?.I ?? 1) != 1) return null;
        if (bn.Input.Count < 5 || bn.Output.Skip(1).Any(o => o.Length > 0)) return null;
        if (bn.Input.Skip(1).Take(4).Any(n => !IsFloatInit(inits, n) || readers[n] != 1)) return null;
        var x = bn.Input[0];
        var prev = g.Node.FirstOrDefault(n => n.Output.Contains(x));
        if (prev == null || prev.Domain is not ("" or "ai.onnx") || prev.OpType is not ("Conv" or "Gemm") || prev.Output.Count != 1) return null;
        if (readers.GetValueOrDefault(x) != 1 || graphOutputs.Contains(x)) return null;
        if (prev.Input.Count < 2 || !IsFloatInit(inits, prev.Input[1]) || readers[prev.Input[1]] != 1) return null;
        bool hasBias = prev.Input.Count > 2 && prev.Input[2].Length > 0;
        if (hasBias && (!IsFloatInit(inits, prev.Input[2]) || readers[prev.Input[2]] != 1)) return null;
        if (prev.OpType == "Gemm")
        {
            if (inits[prev.Input[1]].Dims.Count != 2) return null;
            // C must be per output (or one value), not per row.
            if (hasBias && inits[prev.Input[2]].Dims is var cd && !(cd.Count <= 1 || (cd.Count == 2 && cd[0] == 1))) return null;
        }
        return prev;
    }

    static Dictionary<string, int> Readers(GraphProto g)
    {
        var readers = new Dictionary<string, int>();
        foreach (var name in g.Node.SelectMany(n => n.Input).Where(n => n.Length > 0)) readers[name] = readers.GetValueOrDefault(name) + 1;
        foreach (var o in g.Output) readers[o.Name] = readers.GetValueOrDefault(o.Name) + 1;
        return readers;
    }

    static bool IsFloatInit(Dictionary<string, TensorProto> inits, string name) =>
        inits.TryGetValue(name, out var t) && t.DataType == (int)TensorProto.Types.DataType.Float;

    static double[] Read(TensorProto t, string modelFile) => TensorProtoReader.Read(t, modelFile, null).Data;

    static void Replace(GraphProto g, Dictionary<string, TensorProto> inits, TensorProto t)
    {
        g.Initializer[g.Initializer.IndexOf(inits[t.Name])] = t;
        inits[t.Name] = t;
    }

    static AttributeProto? Attr(NodeProto n, string name) => n.Attribute.FirstOrDefault(a => a.Name == name);

    static void SetFloat(NodeProto n, string name, float v)
    {
        var a = Attr(n, name);
        if (a == null) n.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v });
        else a.F = v;
    }

    static void SetInt(NodeProto n, string name, long v)
    {
        var a = Attr(n, name);
        if (a == null) n.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v });
        else a.I = v;
    }

    /// <summary><paramref name="wanted"/>, or it with a number appended, unused by any value, initializer or input.</summary>
    internal static string UniqueName(GraphProto g, string wanted)
    {
        var taken = g.Node.SelectMany(n => n.Input.Concat(n.Output)).Concat(g.Initializer.Select(t => t.Name))
            .Concat(g.Input.Select(i => i.Name)).Concat(g.Output.Select(o => o.Name)).ToHashSet();
        if (!taken.Contains(wanted)) return wanted;
        for (int i = 1; ; i++)
            if (!taken.Contains($"{wanted}_{i}")) return $"{wanted}_{i}";
    }
}
