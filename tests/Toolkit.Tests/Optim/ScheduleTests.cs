using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Optim.Schedules;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Tests.Optim;

public class ScheduleTests
{
    const double Exact = 1e-12;

    [Fact]
    public void StepMultiStepAndExponential()
    {
        var s = new StepSchedule(3, 0.1);
        Assert.Equal(1, s.Multiplier(2.9), Exact);
        Assert.Equal(0.1, s.Multiplier(3), Exact);
        Assert.Equal(0.01, s.Multiplier(6.5), Exact);
        var ms = new MultiStepSchedule([5, 2], 0.5);
        Assert.Equal(1, ms.Multiplier(1.99), Exact);
        Assert.Equal(0.5, ms.Multiplier(2), Exact);
        Assert.Equal(0.25, ms.Multiplier(7), Exact);
        Assert.Equal(Math.Pow(0.9, 4), new ExponentialSchedule(0.9).Multiplier(4.7), Exact);
    }

    [Fact]
    public void CosineWithWarmRestarts()
    {
        var s = new CosineWarmRestartsSchedule(4, 2, 0.1);
        Assert.Equal(1, s.Multiplier(0), Exact);
        Assert.Equal(0.1 + 0.9 * 0.5, s.Multiplier(2), Exact);          // half-way through the first cycle
        Assert.Equal(1, s.Multiplier(4), Exact);                         // restart
        Assert.Equal(0.1 + 0.9 * 0.5, s.Multiplier(8), Exact);          // half-way through the 8-epoch second cycle
        Assert.Equal(1, s.Multiplier(12), Exact);
        Assert.Equal(0.55, new CosineWarmRestartsSchedule(10, 1, 0.1).Multiplier(15), Exact);
    }

    [Fact]
    public void OneCycle()
    {
        var s = new OneCycleSchedule(10, pctStart: 0.3, div: 25, finalDiv: 1e4);
        Assert.Equal(1 / 25.0, s.Multiplier(0), Exact);
        Assert.Equal(1, s.Multiplier(3), Exact);
        Assert.Equal((1 / 25.0 + 1) / 2, s.Multiplier(1.5), Exact);
        Assert.Equal(1 / 25.0 / 1e4, s.Multiplier(10), Exact);
        Assert.True(s.Multiplier(6) < s.Multiplier(5));
    }

    [Fact]
    public void WarmupInFrontOfAnySchedule()
    {
        var s = new WarmupSchedule(2, new StepSchedule(1, 0.5));
        Assert.Equal(0, s.Multiplier(0), Exact);
        Assert.Equal(0.5, s.Multiplier(1), Exact);
        Assert.Equal(1, s.Multiplier(2), Exact);
        Assert.Equal(0.5, s.Multiplier(3), Exact);
    }

    [Fact]
    public void ApplyScalesEachGroupFromItsBase()
    {
        var a = new Parameter("a", new Tensor(1)); var b = new Parameter("b", new Tensor(1));
        var opt = new Sgd([new ParameterGroup([a], 0.1f), new ParameterGroup([b], 0.01f)]);
        new StepSchedule(1, 0.5).Apply(opt, 2);
        Assert.Equal(0.025f, opt.Groups[0].LearningRate, 6);
        Assert.Equal(0.0025f, opt.Groups[1].LearningRate, 6);
    }
}
