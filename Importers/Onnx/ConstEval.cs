using TransferKit.Toolkit.Kernels;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Onnx;

/// <summary>Import-time evaluation of shape arithmetic on constants of any numeric type (values held as double).</summary>
public static class ConstEval
{
    /// <summary>Elementwise binary op with numpy broadcasting; integer division truncates toward zero.</summary>
    public static ConstTensor Binary(string op, ConstTensor a, ConstTensor b)
    {
        var shape = Shapes.Broadcast(a.Dims, b.Dims);
        int n = (int)Shapes.ElementCount(shape);
        var r = new double[n];
        var idx = new int[shape.Length];
        bool integer = !a.IsFloat;
        for (int flat = 0; flat < n; flat++)
        {
            int rem = flat;
            for (int d = shape.Length - 1; d >= 0; d--) { idx[d] = rem % shape[d]; rem /= shape[d]; }
            double x = a.Data[Offset(idx, a.Dims)], y = b.Data[Offset(idx, b.Dims)];
            double v = op switch
            {
                "Add" => x + y,
                "Sub" => x - y,
                "Mul" => x * y,
                "Div" => integer ? (y == 0 ? 0 : Math.Truncate(x / y)) : x / y,
                "Max" => Math.Max(x, y),
                "Min" => Math.Min(x, y),
                "Pow" => Math.Pow(x, y),
                "Equal" => x == y ? 1 : 0,
                "Less" => x < y ? 1 : 0,
                "Greater" => x > y ? 1 : 0,
                _ => throw new ArgumentException($"No constant evaluation for {op}."),
            };
            r[flat] = ConstTensor.Round(IsComparison(op) ? OnnxDataType.Bool : a.Type, v);
        }
        var result = new ConstTensor(IsComparison(op) ? OnnxDataType.Bool : a.Type, shape, r);
        // k·batch times an unmarked constant c is (k·c)·batch; any other arithmetic on the batch is not a multiple of it.
        if (op == "Mul" && a.HasBatch != b.HasBatch)
            return a.HasBatch ? result.WithBatch(Binary("Mul", a.FactorTensor(), b), a.BatchSource) : result.WithBatch(Binary("Mul", a, b.FactorTensor()), b.BatchSource);
        return result;
    }

    static bool IsComparison(string op) => op is "Equal" or "Less" or "Greater";

    /// <summary>Where(condition, x, y) with numpy broadcasting of all three; the result has x's type.</summary>
    public static ConstTensor Where(ConstTensor condition, ConstTensor x, ConstTensor y)
    {
        var shape = Shapes.Broadcast(Shapes.Broadcast(condition.Dims, x.Dims), y.Dims);
        var r = new double[Shapes.ElementCount(shape)];
        var idx = new int[shape.Length];
        for (int flat = 0; flat < r.Length; flat++)
        {
            int rem = flat;
            for (int d = shape.Length - 1; d >= 0; d--) { idx[d] = rem % shape[d]; rem /= shape[d]; }
            r[flat] = condition.Data[Offset(idx, condition.Dims)] != 0 ? x.Data[Offset(idx, x.Dims)] : y.Data[Offset(idx, y.Dims)];
        }
        var result = new ConstTensor(x.Type, shape, r);
        if (!x.HasBatch && !y.HasBatch) return result;
        return result.WithBatch(Where(condition, x.FactorTensor(), y.FactorTensor()), x.BatchSource ?? y.BatchSource);
    }

    static int Offset(int[] outIdx, int[] dims)
    {
        int off = 0, rank = outIdx.Length;
        for (int i = 0; i < dims.Length; i++)
            off = off * dims[i] + (dims[i] == 1 ? 0 : outIdx[rank - dims.Length + i]);
        return off;
    }

    public static ConstTensor Reshape(ConstTensor a, int[] dims) =>
        Shapes.ElementCount(dims) == a.Length ? new ConstTensor(a.Type, dims, a.Data) { BatchFactor = a.BatchFactor, BatchSource = a.BatchSource }
            : throw new ShapeException($"Cannot reshape constant {Shapes.Format(a.Dims)} to {Shapes.Format(dims)}.");

    public static ConstTensor Concat(ConstTensor[] parts, int axis)
    {
        int rank = parts[0].Dims.Length;
        int a = Shapes.NormalizeAxis(axis, rank);
        var dims = (int[])parts[0].Dims.Clone();
        dims[a] = parts.Sum(p => p.Dims[a]);
        int outer = Shapes.Product(dims, 0, a);
        var r = new List<double>((int)Shapes.ElementCount(dims));
        for (int o = 0; o < outer; o++)
            foreach (var p in parts)
            {
                int row = Shapes.Product(p.Dims, a, rank);
                r.AddRange(p.Data.AsSpan(o * row, row).ToArray());
            }
        var result = new ConstTensor(parts[0].Type, dims, r.ToArray());
        var withBatch = parts.FirstOrDefault(p => p.HasBatch);
        if (withBatch == null) return result;
        return result.WithBatch(Concat(parts.Select(p => p.FactorTensor()).ToArray(), axis), withBatch.BatchSource);
    }

    public static ConstTensor Gather(ConstTensor data, ConstTensor indices, int axis)
    {
        int rank = data.Dims.Length;
        int a = Shapes.NormalizeAxis(axis, rank);
        int outer = Shapes.Product(data.Dims, 0, a), len = data.Dims[a], inner = Shapes.Product(data.Dims, a + 1, rank);
        var dims = data.Dims[..a].Concat(indices.Dims).Concat(data.Dims[(a + 1)..]).ToArray();
        var r = new double[Shapes.ElementCount(dims)];
        int k = 0;
        for (int o = 0; o < outer; o++)
            foreach (var raw in indices.Data)
            {
                long i = (long)raw;
                if (i < 0) i += len;
                if (i < 0 || i >= len) throw new ArgumentException($"Gather index {(long)raw} is out of range for axis of size {len}.");
                Array.Copy(data.Data, (o * len + i) * inner, r, k, inner);
                k += inner;
            }
        var result = new ConstTensor(data.Type, dims, r);
        return data.HasBatch ? result.WithBatch(Gather(data.FactorTensor(), indices, axis), data.BatchSource) : result;
    }

    /// <summary>Numpy-style slice on a constant (starts/ends clamped as ONNX Slice specifies).</summary>
    public static ConstTensor Slice(ConstTensor data, long[] starts, long[] ends, long[] axes, long[] steps)
    {
        int rank = data.Dims.Length;
        var start = new int[rank]; var step = new int[rank]; var count = (int[])data.Dims.Clone();
        for (int d = 0; d < rank; d++) step[d] = 1;
        for (int i = 0; i < starts.Length; i++)
        {
            int d = Shapes.NormalizeAxis((int)axes[i], rank);
            long dim = data.Dims[d], st = steps[i];
            if (st == 0) throw new ArgumentException("Slice step 0.");
            long s = starts[i] < 0 ? starts[i] + dim : starts[i];
            long e = ends[i] < 0 ? ends[i] + dim : ends[i];
            if (st > 0) { s = Math.Clamp(s, 0, dim); e = Math.Clamp(e, 0, dim); }
            else { s = Math.Clamp(s, 0, dim - 1); e = Math.Clamp(e, -1, dim - 1); }
            long c = st > 0 ? Math.Max(0, (e - s + st - 1) / st) : Math.Max(0, (s - e + (-st) - 1) / (-st));
            start[d] = (int)s; step[d] = (int)st; count[d] = (int)c;
        }
        var strides = Shapes.Strides(data.Dims);
        var r = new double[Shapes.ElementCount(count)];
        var idx = new int[rank];
        for (int flat = 0; flat < r.Length; flat++)
        {
            int rem = flat, src = 0;
            for (int d = rank - 1; d >= 0; d--) { idx[d] = rem % count[d]; rem /= count[d]; src += (start[d] + idx[d] * step[d]) * strides[d]; }
            r[flat] = data.Data[src];
        }
        var result = new ConstTensor(data.Type, count, r);
        return data.HasBatch ? result.WithBatch(Slice(data.FactorTensor(), starts, ends, axes, steps), data.BatchSource) : result;
    }

    public static ConstTensor Cast(ConstTensor a, OnnxDataType to) =>
        new(to, a.Dims, Array.ConvertAll(a.Data, v => ConstTensor.Round(to, v))) { BatchFactor = a.BatchFactor, BatchSource = a.BatchSource };

    public static ConstTensor Transpose(ConstTensor a, int[] perm)
    {
        if (a.Length > 1 << 24) throw new ArgumentException("Constant too large to transpose at import.");
        var y = new float[a.Length];
        var r = new double[a.Length];
        // Transpose doubles through an index permutation of the positions (exact for any type).
        var positions = new float[a.Length];
        for (int i = 0; i < positions.Length; i++) positions[i] = i;
        Toolkit.Ops.TransposeOp.Permute(positions, a.Dims, perm, y);
        for (int i = 0; i < r.Length; i++) r[i] = a.Data[(int)y[i]];
        return new ConstTensor(a.Type, perm.Select(p => a.Dims[p]).ToArray(), r);
    }

    /// <summary>
    /// A constant of any type (its batch factors too) rearranged by <paramref name="op"/>, an op that only moves elements
    /// (Expand, Tile): the op runs on the elements' positions, exact in float32 below 2^24 elements.
    /// </summary>
    public static ConstTensor Move(ConstTensor a, Toolkit.Ops.Op op)
    {
        if (a.Length > 1 << 24) throw new ArgumentException($"Constant {Shapes.Format(a.Dims)} is too large to {op.Type} at import.");
        var positions = new float[a.Length];
        for (int i = 0; i < positions.Length; i++) positions[i] = i;
        var shape = op.InferShapes([a.Dims])[0];
        var y = new Tensor(shape);
        op.Forward(new Toolkit.Ops.OpContext { Inputs = [new Tensor(a.Dims, positions)], Outputs = [y] });
        var result = new ConstTensor(a.Type, shape, Array.ConvertAll(y.Span.ToArray(), p => a.Data[(int)p]));
        return a.HasBatch ? result.WithBatch(Move(a.FactorTensor(), op), a.BatchSource) : result;
    }
}
