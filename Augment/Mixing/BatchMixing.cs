namespace TransferKit.Augment.Mixing;

/// <summary>
/// Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) as timm's <c>--mixup</c> and <c>--cutmix</c> set them: the
/// Beta(α, α) concentration of each, 0 turning it off. With both on, each batch uses one of them, CutMix with
/// probability <see cref="SwitchProbability"/> (timm's <c>mixup_switch_prob</c>, 0.5).
/// </summary>
public sealed record BatchMixing(float MixupAlpha, float CutMixAlpha)
{
    /// <summary>The chance that a batch uses CutMix rather than mixup when both are on.</summary>
    public const double SwitchProbability = 0.5;

    /// <summary>Whether either is on.</summary>
    public bool Enabled => MixupAlpha > 0 || CutMixAlpha > 0;

    /// <summary>How the log and the report name the settings, e.g. "mixup α=0.2, cutmix α=1".</summary>
    public override string ToString() => !Enabled ? "none" : string.Join(", ",
        new[] { MixupAlpha > 0 ? $"mixup α={MixupAlpha:0.###}" : null, CutMixAlpha > 0 ? $"cutmix α={CutMixAlpha:0.###}" : null }.Where(x => x != null));
}

/// <summary>
/// A mixed batch's targets: every row is λ of <see cref="LabelsA"/> (its own label) and 1 − λ of <see cref="LabelsB"/>
/// (the label of the row mixed into it).
/// </summary>
public sealed record MixedTargets(int[] LabelsA, int[] LabelsB, float Lambda, string Kind);
