namespace TransferKit.FineTune.Callbacks;

/// <summary>
/// A callback made of delegates (Keras' <c>LambdaCallback</c>), for code too small for a class:
/// <c>new LambdaCallback(onEpochEnd: c => Console.WriteLine(c.Metrics))</c>.
/// </summary>
/// <param name="onTrainBegin">Called as <see cref="ITrainingCallback.OnTrainBegin"/>.</param>
/// <param name="onEpochBegin">Called as <see cref="ITrainingCallback.OnEpochBegin"/>.</param>
/// <param name="onBatchEnd">Called as <see cref="ITrainingCallback.OnBatchEnd"/>.</param>
/// <param name="onEpochEnd">Called as <see cref="ITrainingCallback.OnEpochEnd"/>.</param>
/// <param name="onTrainEnd">Called as <see cref="ITrainingCallback.OnTrainEnd"/>.</param>
/// <param name="order">Where it runs among the callbacks (see <see cref="ITrainingCallback.Order"/>).</param>
public sealed class LambdaCallback(
    Action<TrainingContext>? onTrainBegin = null, Action<TrainingContext>? onEpochBegin = null, Action<TrainingContext>? onBatchEnd = null,
    Action<TrainingContext>? onEpochEnd = null, Action<TrainingContext>? onTrainEnd = null, int order = 0) : ITrainingCallback
{
    /// <inheritdoc/>
    public int Order => order;

    /// <inheritdoc/>
    public void OnTrainBegin(TrainingContext context) => onTrainBegin?.Invoke(context);

    /// <inheritdoc/>
    public void OnEpochBegin(TrainingContext context) => onEpochBegin?.Invoke(context);

    /// <inheritdoc/>
    public void OnBatchEnd(TrainingContext context) => onBatchEnd?.Invoke(context);

    /// <inheritdoc/>
    public void OnEpochEnd(TrainingContext context) => onEpochEnd?.Invoke(context);

    /// <inheritdoc/>
    public void OnTrainEnd(TrainingContext context) => onTrainEnd?.Invoke(context);
}
