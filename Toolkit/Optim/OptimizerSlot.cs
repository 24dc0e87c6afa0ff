namespace TransferKit.Toolkit.Optim;

/// <summary>One per-parameter buffer of an optimizer (e.g. Adam's <c>exp_avg</c> of parameter <c>conv1.weight</c>).</summary>
/// <param name="Parameter">The parameter's name.</param>
/// <param name="Slot">The buffer's name, PyTorch's where there is one (<c>momentum_buffer</c>, <c>exp_avg</c>, <c>exp_avg_sq</c>, <c>square_avg</c>, <c>grad_avg</c>, <c>sum</c>).</param>
/// <param name="Values">The buffer, one value per parameter element.</param>
public sealed record OptimizerSlot(string Parameter, string Slot, float[] Values);
