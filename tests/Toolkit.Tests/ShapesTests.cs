using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests;

public class ShapesTests
{
    [Fact]
    public void BroadcastFollowsNumpyRules()
    {
        Assert.Equal(new[] { 2, 3, 4 }, Shapes.Broadcast(new[] { 2, 1, 4 }, new[] { 3, 1 }));
        Assert.Throws<ShapeException>(() => Shapes.Broadcast(new[] { 2, 3 }, new[] { 4 }));
    }

    [Fact]
    public void OverflowingElementCountIsRefused()
    {
        Assert.Throws<ShapeException>(() => Shapes.ElementCount(new long[] { 1L << 20, 1L << 20, 1L << 20 }));
        Assert.Equal(24, Shapes.ElementCount(new[] { 2, 3, 4 }));
    }
}
