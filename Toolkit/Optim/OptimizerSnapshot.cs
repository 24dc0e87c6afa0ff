using TransferKit.Toolkit.Graph;

namespace TransferKit.Toolkit.Optim;

/// <summary>
/// A copy of an optimizer's state at one moment (from <see cref="Optimizer.Snapshot"/>), to put it back with
/// <see cref="Optimizer.Restore"/>: every per-parameter buffer, the step count and each group's learning rates.
/// </summary>
public sealed class OptimizerSnapshot
{
    internal OptimizerSnapshot(Optimizer owner, Dictionary<(Parameter, string), float[]> state, long stepCount, (float Lr, float BaseLr)[] rates)
    {
        Owner = owner; State = state; StepCount = stepCount; Rates = rates;
    }

    internal Optimizer Owner { get; }
    internal IReadOnlyDictionary<(Parameter, string), float[]> State { get; }
    internal (float Lr, float BaseLr)[] Rates { get; }

    /// <summary>Steps the optimizer had taken.</summary>
    public long StepCount { get; }
}
