using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Graph;

public class ExecutionPlanTests
{
    /// <summary>TensorPrimitives.Tanh is a vectorized approximation within a few ulp of MathF.Tanh.</summary>
    const float VectorTanhTolerance = 1e-5f;

    /// <summary>x → relu → sigmoid → tanh → relu: a chain whose buffers can be handed on.</summary>
    static ComputeGraph Chain(int length)
    {
        var g = new ComputeGraph();
        var v = g.AddInput("x", [-1, 1000]);
        for (int i = 0; i < length; i++)
            v = g.AddNode($"n{i}", i % 2 == 0 ? new ReluOp() : new TanhOp(), [v], [$"v{i}"]).Outputs[0];
        g.MarkOutput(v);
        return g;
    }

    [Fact]
    public void BuffersAreReusedAlongAChain()
    {
        var plan = new ExecutionPlan(Chain(10), [[4, 1000]]);
        // Ten activations of 4000 floats, but at most two are alive at once.
        Assert.True(plan.BufferFloats <= 2 * 4000, $"{plan.BufferFloats} floats");
        var keep = new ExecutionPlan(Chain(10), [[4, 1000]], keepAll: true);
        Assert.Equal(10 * 4000, keep.BufferFloats);
    }

    [Fact]
    public void ReusedBuffersGiveTheSameResultAsKeptOnes()
    {
        var x = new Tensor(3, 1000);
        var r = new Random(1);
        for (int i = 0; i < x.Length; i++) x.Span[i] = (float)(r.NextDouble() * 6 - 3);
        var a = new ExecutionPlan(Chain(7), [[3, 1000]]).Run([x])[0].Span.ToArray();
        var b = new ExecutionPlan(Chain(7), [[3, 1000]], keepAll: true).Run([x])[0].Span.ToArray();
        Assert.Equal(b, a);
        // And the scalar definition of the chain.
        var expected = x.Span.ToArray().Select(v => { for (int i = 0; i < 7; i++) v = i % 2 == 0 ? Math.Max(v, 0) : MathF.Tanh(v); return v; }).ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - a[i]) <= VectorTanhTolerance, $"index {i}: {expected[i]} vs {a[i]}");
    }

    [Fact]
    public void WrongInputShapeIsRefused()
    {
        var g = Chain(2);
        Assert.Throws<ShapeException>(() => new ExecutionPlan(g, [[4, 999]]));
    }

    [Fact]
    public void RunnerKeepsOnePlanPerShape()
    {
        var runner = new GraphRunner(Chain(3));
        var p1 = runner.PlanFor([new Tensor(2, 1000)]);
        var p2 = runner.PlanFor([new Tensor(2, 1000)]);
        var p3 = runner.PlanFor([new Tensor(5, 1000)]);
        Assert.Same(p1, p2);
        Assert.NotSame(p1, p3);
    }

    /// <summary>
    /// Chunks of a split batch: as many images as fit half a thread's share of L3, unless the weights every chunk
    /// reads again outweigh that more than twice (then each thread's whole share); never more than that share.
    /// </summary>
    [Fact]
    public void SplitChunksFitTheCacheUnlessTheWeightsOutweighThem()
    {
        long l3 = TransferKit.Toolkit.Kernels.CacheSizes.L3, perImage = l3 / 8;   // two threads: half a share holds two images
        Assert.Equal(2, SplitBatchPlan.ChunkFor(perImage, 0, 32, 2));
        Assert.Equal(3, SplitBatchPlan.ChunkFor(perImage, 3 * perImage, 32, 2));       // weights of three images' worth
        Assert.Equal(4, SplitBatchPlan.ChunkFor(perImage, 4 * perImage, 32, 2));       // twice what fits: still chunks
        Assert.Equal(16, SplitBatchPlan.ChunkFor(perImage, 5 * perImage, 32, 2));      // beyond: each thread's share
        Assert.Equal(1, SplitBatchPlan.ChunkFor(l3, 0, 32, 2));                        // an image larger than the share
        Assert.Equal(3, SplitBatchPlan.ChunkFor(1, 0, 7, 2));                          // at most batch / threads
    }
}
