namespace TransferKit.Toolkit.Optim;

/// <summary>
/// Everything an optimizer carries from one step to the next, detached from its parameters: the step count (Adam's
/// bias correction), each group's current and base learning rate and weight decay, and every per-parameter buffer
/// (momentum, moments, accumulators) by parameter name. Hyperparameters such as β or momentum are configuration,
/// not state: the optimizer that imports a state is built with the same ones.
/// </summary>
public sealed record OptimizerState
{
    /// <summary>The optimizer's type name (<c>AdamW</c>, <c>Sgd</c>, …); importing into another type is an error.</summary>
    public required string Type { get; init; }
    public required long StepCount { get; init; }
    /// <summary>Per group, in group order.</summary>
    public required float[] LearningRates { get; init; }
    public required float[] BaseLearningRates { get; init; }
    public required float[] WeightDecays { get; init; }
    public required IReadOnlyList<OptimizerSlot> Slots { get; init; }
}
