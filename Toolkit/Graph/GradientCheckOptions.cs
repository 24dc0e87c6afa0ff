using TransferKit.Toolkit.Losses;

namespace TransferKit.Toolkit.Graph;

/// <summary>What <see cref="GradientCheck.Run"/> checks and how.</summary>
public sealed class GradientCheckOptions
{
    /// <summary>The loss on the logits (the graph's single output, seen as [N, C]). Default: plain cross-entropy.</summary>
    public CrossEntropyLoss Loss { get; init; } = new();

    /// <summary>
    /// When set, the loss is instead the mean squared error (<see cref="MeanSquaredErrorLoss"/>) of the whole output
    /// against these targets, one per output element (a dense prediction, a regression); the labels are then unused.
    /// </summary>
    public float[]? MseTargets { get; init; }

    /// <summary>Per-node training mode (batch statistics, dropout masks), as the trainer passes it. Default: inference everywhere.</summary>
    public Func<Node, bool>? Training { get; init; }

    /// <summary>The step counter the forward passes run at (keys dropout masks; every pass uses the same one).</summary>
    public long Step { get; init; }

    /// <summary>Random directions per parameter tensor; the reported error is their median.</summary>
    public int Directions { get; init; } = GradientCheck.DefaultDirections;

    /// <summary>The central-difference step ε, relative to each parameter tensor's root-mean-square value.</summary>
    public double Epsilon { get; init; } = GradientCheck.DefaultEpsilon;

    /// <summary>The bound on each parameter's relative error.</summary>
    public double Tolerance { get; init; } = GradientCheck.Tolerance;

    /// <summary>
    /// Hold the Relu, Clip and max-pool switches on the backward path where they are at θ while the loss is evaluated
    /// at perturbed parameters (see <see cref="GradientCheck"/>). Off, large models fail on kink crossings alone.
    /// </summary>
    public bool HoldSwitches { get; init; } = true;

    /// <summary>Seed of the directions.</summary>
    public int Seed { get; init; }

    /// <summary>Which trainable parameters to check (default: all of them). The others still get gradients; they are just not perturbed.</summary>
    public Func<Parameter, bool>? Include { get; init; }

    /// <summary>Check at most this many parameter tensors, spread evenly over the graph order, last one included (0: all).</summary>
    public int MaxParameters { get; init; }
}
