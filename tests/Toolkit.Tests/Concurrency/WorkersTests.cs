using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Tests.Concurrency;

public class WorkersTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void EveryPieceRunsExactlyOnce(int threads)
    {
        for (int round = 0; round < 2000; round++)
        {
            var runs = new int[threads];
            Workers.Run(threads, t => Interlocked.Increment(ref runs[t]));
            Assert.All(runs, r => Assert.Equal(1, r));
        }
    }

    [Fact]
    public void ARegionFinishesWhileAHelperIsHeldUp()
    {
        // One slow piece: whichever thread claims it, every other piece still runs once and the region ends.
        for (int round = 0; round < 200; round++)
        {
            var runs = new int[4];
            Workers.Run(4, t =>
            {
                if (t == 3) Thread.Sleep(1);
                Interlocked.Increment(ref runs[t]);
            });
            Assert.All(runs, r => Assert.Equal(1, r));
        }
    }

    [Fact]
    public void AnExceptionInAPieceReachesTheCallerAndTheHelpersStayUsable()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Workers.Run(2, t => { if (t == 1) throw new InvalidOperationException("piece 1"); }));
        Assert.Equal("piece 1", e.Message);
        var runs = new int[2];
        Workers.Run(2, t => Interlocked.Increment(ref runs[t]));
        Assert.Equal([1, 1], runs);
    }

    [Fact]
    public void NestedRegionsRunEveryPiece()
    {
        var runs = new int[3, 2];
        Workers.Run(3, outer => Workers.Run(2, inner => Interlocked.Increment(ref runs[outer, inner])));
        foreach (var r in runs) Assert.Equal(1, r);
    }

    /// <summary>A limit holds on its own thread only, nests, and is lifted when the body ends (also by an exception).</summary>
    [Fact]
    public void ALimitHoldsOnItsThreadOnlyUntilTheBodyEnds()
    {
        int outside = Workers.MaxThreads;
        int inside = 0, nested = 0, other = 0;
        Workers.Limited(1, () =>
        {
            inside = Workers.MaxThreads;
            Workers.Limited(Math.Max(1, outside), () => nested = Workers.MaxThreads);
            var t = new Thread(() => other = Workers.MaxThreads);
            t.Start(); t.Join();
        });
        Assert.Equal(1, inside);
        Assert.Equal(outside, nested);   // a wider limit does not raise the global setting
        Assert.Equal(outside, other);
        Assert.Equal(outside, Workers.MaxThreads);
        Assert.Throws<InvalidOperationException>(() => Workers.Limited(1, () => throw new InvalidOperationException()));
        Assert.Equal(outside, Workers.MaxThreads);
    }
}
