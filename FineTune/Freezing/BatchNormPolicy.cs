namespace TransferKit.FineTune.Freezing;

/// <summary>How batch normalization behaves in the frozen part of a model during training.</summary>
public enum BatchNormPolicy
{
    /// <summary>Running statistics fixed, scale and bias frozen (the default).</summary>
    Eval,
    /// <summary>Running statistics fixed; scale and bias train.</summary>
    Affine,
    /// <summary>Full training mode: batch statistics, running statistics updated, scale and bias train.</summary>
    Train,
}
