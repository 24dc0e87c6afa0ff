using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;
using static TransferKit.Toolkit.Tests.Ops.GradientCheck;

namespace TransferKit.Toolkit.Tests.Ops;

/// <summary>
/// The run-time shape ops (Gather, Slice, Expand, Tile) through the op gradient check (central differences, fresh and
/// unread-value checks, buffer slack), and their forward passes against a plain index-by-index definition.
/// </summary>
public class GradientCheckShapeTests
{
    public static IEnumerable<object[]> GatherCases() =>
        new (int[] X, int Axis, long[] Indices, int[] IndexShape)[]
        {
            ([2, 3, 4], 1, [0], []),                  // the cls-token pick: a scalar index removes the axis
            ([4, 3], 0, [-1, 0, -1], [3]),             // negative and repeated indices: the repeat's rows add up
            ([2, 3, 5], -1, [4, 0, 2, 2], [2, 2]),     // 2-D indices on the last axis
            ([5], 0, [3], []),                         // a rank-1 input to a scalar
        }.Select(c => new object[] { c.X, c.Axis, c.Indices, c.IndexShape });

    [Theory]
    [MemberData(nameof(GatherCases))]
    public void Gather(int[] x, int axis, long[] indices, int[] indexShape)
    {
        var op = new GatherOp(axis, indices, indexShape);
        var input = Random(x, 1);
        Check(op, [input]);
        var y = Run(op, [input]);
        int a = Shapes.NormalizeAxis(axis, x.Length);
        ForEachIndex(y.ShapeArray, (yi, flat) =>
        {
            // y[o…, j…, i…] = x[o…, idx[j…], i…]
            int k = indexShape.Length;
            int j = 0;
            for (int d = 0; d < k; d++) j = j * indexShape[d] + yi[a + d];
            long pick = indices[j] < 0 ? indices[j] + x[a] : indices[j];
            var xi = yi[..a].Append((int)pick).Concat(yi[(a + k)..]).ToArray();
            Assert.Equal(input.Span[Offset(xi, x)], y.Span[flat]);
        });
    }

    [Fact]
    public void GatherRefusesAnIndexOutOfRange() =>
        Assert.Throws<ShapeException>(() => new GatherOp(1, [3], []).InferShapes([[2, 3]]));

    public static IEnumerable<object[]> SliceCases() =>
        new (int[] X, long[] Starts, long[] Ends, long[] Axes, long[] Steps)[]
        {
            ([3, 5, 4], [1], [long.MaxValue], [1], [1]),                    // tokens after the cls token, end clamped
            ([4, 6], [0, 1], [3, 5], [0, 1], [2, 3]),                        // positive steps on two axes
            ([3, 7], [-1], [long.MinValue], [1], [-2]),                      // a negative step from the end, end clamped
            ([2, 3, 6], [-4, 0], [-1, 10], [-1, 0], [1, 1]),                 // negative start, end and axis; a clamped end
            ([5, 4], [10, 0], [-10, 4], [0, 1], [-1, 1]),                    // a negative step with a clamped start
        }.Select(c => new object[] { c.X, c.Starts, c.Ends, c.Axes, c.Steps });

    [Theory]
    [MemberData(nameof(SliceCases))]
    public void Slice(int[] x, long[] starts, long[] ends, long[] axes, long[] steps)
    {
        var op = new SliceOp(starts, ends, axes, steps);
        var input = Random(x, 2);
        Check(op, [input]);
        var y = Run(op, [input]);
        // Plain definition: per axis, the indices start, start + step, … that lie inside [0, n) before end.
        var picks = x.Select(n => Enumerable.Range(0, n).ToArray()).ToArray();
        for (int i = 0; i < starts.Length; i++)
        {
            int d = (int)(axes[i] < 0 ? axes[i] + x.Length : axes[i]);
            long n = x[d], st = steps[i];
            long s = starts[i] < 0 ? starts[i] + n : starts[i], e = ends[i] < 0 ? ends[i] + n : ends[i];
            var list = new List<int>();
            if (st > 0) for (long v = Math.Max(s, 0); v < Math.Min(e, n); v += st) list.Add((int)v);
            else for (long v = Math.Clamp(s, 0, n - 1); v > Math.Max(e, -1); v += st) list.Add((int)v);
            picks[d] = list.ToArray();
        }
        Assert.Equal(picks.Select(p => p.Length).ToArray(), y.ShapeArray);
        ForEachIndex(y.ShapeArray, (yi, flat) =>
            Assert.Equal(input.Span[Offset(yi.Select((v, d) => picks[d][v]).ToArray(), x)], y.Span[flat]));
    }

    [Fact]
    public void SliceToNothingGivesAnEmptyAxis() =>
        Assert.Equal([2, 0], new SliceOp([5], [7], [1], [1]).InferShapes([[2, 3]])[0]);

    public static IEnumerable<object[]> ExpandCases() =>
        new (int[] X, DimRule[] Shape, int[]? Source)[]
        {
            ([1, 1, 4], [DimRule.Copy(0), DimRule.Of(1), DimRule.Of(1)], [3, 7]),  // a cls token to the batch of the source
            ([3, 1], [DimRule.Of(2), DimRule.Of(1), DimRule.Of(6)], null),          // both directions, rank grows
            ([2, 3], [DimRule.Of(2), DimRule.Of(3)], null),                         // already that shape
            ([4, 1, 5], [DimRule.Of(3), DimRule.Of(1)], null),                      // target shorter than the input
        }.Select(c => new object[] { c.X, c.Shape, c.Source! });

    [Theory]
    [MemberData(nameof(ExpandCases))]
    public void Expand(int[] x, DimRule[] shape, int[]? source)
    {
        var op = new ExpandOp(shape);
        var input = Random(x, 3);
        Tensor[] inputs = source == null ? [input] : [input, Random(source, 4)];
        Check(op, inputs, source == null ? [true] : [true, false]);
        var y = Run(op, inputs);
        var target = shape.Select(r => r.CopyFrom >= 0 ? source![r.CopyFrom] : r.Fixed).ToArray();
        Assert.Equal(Shapes.Broadcast(x, target), y.ShapeArray);
        ForEachIndex(y.ShapeArray, (yi, flat) =>
        {
            // Right-aligned; a size-1 axis of x reads index 0.
            var xi = x.Select((n, d) => n == 1 ? 0 : yi[yi.Length - x.Length + d]).ToArray();
            Assert.Equal(input.Span[Offset(xi, x)], y.Span[flat]);
        });
    }

    [Fact]
    public void ExpandRefusesShapesThatDoNotBroadcast() =>
        Assert.Throws<ShapeException>(() => new ExpandOp([DimRule.Of(3)]).InferShapes([[2, 2]]));

    public static IEnumerable<object[]> TileCases() =>
        new (int[] X, DimRule[] Repeats, int[]? Source)[]
        {
            ([2, 3], [DimRule.Of(2), DimRule.Of(1)], null),
            ([2, 1, 3], [DimRule.Of(1), DimRule.Of(3), DimRule.Of(2)], null),
            ([1, 2, 3], [DimRule.Copy(0), DimRule.Of(2), DimRule.Of(1)], [3, 5]), // a token tiled to the source's batch
        }.Select(c => new object[] { c.X, c.Repeats, c.Source! });

    [Theory]
    [MemberData(nameof(TileCases))]
    public void Tile(int[] x, DimRule[] repeats, int[]? source)
    {
        var op = new TileOp(repeats);
        var input = Random(x, 5);
        Tensor[] inputs = source == null ? [input] : [input, Random(source, 6)];
        Check(op, inputs, source == null ? [true] : [true, false]);
        var y = Run(op, inputs);
        var r = repeats.Select(t => t.CopyFrom >= 0 ? source![t.CopyFrom] : t.Fixed).ToArray();
        Assert.Equal(x.Select((n, d) => n * r[d]).ToArray(), y.ShapeArray);
        ForEachIndex(y.ShapeArray, (yi, flat) => Assert.Equal(input.Span[Offset(yi.Select((v, d) => v % x[d]).ToArray(), x)], y.Span[flat]));
    }

    [Fact]
    public void TileRefusesRepeatsOfAnotherRank() =>
        Assert.Throws<ShapeException>(() => new TileOp([DimRule.Of(2)]).InferShapes([[2, 2]]));

    static Tensor Run(Op op, Tensor[] inputs)
    {
        var shape = op.InferShapes(inputs.Select(t => t.ShapeArray).ToArray())[0];
        var y = new Tensor(shape);
        op.Forward(new OpContext { Inputs = inputs, Outputs = [y] });
        return y;
    }

    static int Offset(int[] index, int[] shape)
    {
        int off = 0;
        for (int d = 0; d < shape.Length; d++) off = off * shape[d] + index[d];
        return off;
    }

    static void ForEachIndex(int[] shape, Action<int[], int> visit)
    {
        long n = Shapes.ElementCount(shape);
        for (int flat = 0; flat < n; flat++)
        {
            var idx = new int[shape.Length];
            for (int d = shape.Length - 1, rem = flat; d >= 0; d--) { idx[d] = rem % shape[d]; rem /= shape[d]; }
            visit(idx, flat);
        }
    }
}
