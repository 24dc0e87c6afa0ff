namespace TransferKit.Toolkit.Graph;

/// <summary>
/// The check of one parameter tensor: the directional derivative along its median direction (by relative error),
/// analytic (g·v from the backward pass) and numeric (central difference of the loss).
/// </summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="Shape">The parameter's shape.</param>
/// <param name="Analytic">g·v along the median direction, per unit of the step.</param>
/// <param name="Numeric">(L(θ + εv) − L(θ − εv)) / 2ε along the same direction.</param>
/// <param name="RelativeError">Median over the directions of |analytic − numeric| / max(|analytic|, |numeric|, floor).</param>
/// <param name="MaxRelativeError">The largest relative error of any direction.</param>
/// <param name="Directions">How many random directions were tried.</param>
/// <param name="Floor">The relative-error floor used for this tensor (per unit of ε, in loss units).</param>
/// <param name="Passed">Whether <paramref name="RelativeError"/> is within the tolerance.</param>
public sealed record ParameterGradientCheck(
    string Name, int[] Shape, double Analytic, double Numeric, double RelativeError, double MaxRelativeError,
    int Directions, double Floor, bool Passed);

/// <summary>The result of <see cref="GradientCheck.Run"/>.</summary>
/// <param name="Parameters">One row per checked parameter tensor, in graph order.</param>
/// <param name="Loss">The loss at the unperturbed parameters.</param>
/// <param name="Tolerance">The bound on each parameter's relative error.</param>
/// <param name="Epsilon">The step, relative to each parameter's root-mean-square value.</param>
/// <param name="TrainableParameters">How many parameter tensors were trainable (all of them get an analytic gradient).</param>
/// <param name="HeldSwitches">Switching nodes (Relu, Clip, max pooling, …) held at θ during the perturbed evaluations.</param>
/// <param name="Forwards">Forward passes run.</param>
/// <param name="Seconds">Wall time of the check.</param>
/// <param name="LossNoise">The measured round-off of one float32 evaluation of the loss (its standard deviation).</param>
public sealed record GradientCheckReport(
    IReadOnlyList<ParameterGradientCheck> Parameters, double Loss, double Tolerance, double Epsilon,
    int TrainableParameters, int HeldSwitches, int Forwards, double Seconds, double LossNoise = 0)
{
    /// <summary>The largest per-parameter (median) relative error.</summary>
    public double MaxRelativeError => Parameters.Count == 0 ? 0 : Parameters.Max(p => p.RelativeError);

    /// <summary>Whether every checked parameter is within the tolerance (and at least one was checked).</summary>
    public bool Passed => Parameters.Count > 0 && Parameters.All(p => p.Passed);
}
