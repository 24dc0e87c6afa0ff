namespace TransferKit.FineTune.Callbacks;

/// <summary>
/// Warns once one class has been predicted for every validation image for <paramref name="epochs"/> epochs in a row:
/// the model is not using its input (a ReLU after the head that died, as SqueezeNet's can at a high learning rate).
/// </summary>
sealed class SinglePredictionWarning(int epochs) : ITrainingCallback
{
    int _run;

    public int Order => 80;

    public void OnEpochEnd(TrainingContext context)
    {
        int? single = context.Validation?.SinglePrediction();
        _run = single == null ? 0 : _run + 1;
        if (_run == epochs)
            context.Log.WriteLine($"warning: every validation image has been predicted as '{context.Classes[single!.Value]}' for {epochs} epochs: the model is not using its input "
                + "(when a ReLU follows the head, as in SqueezeNet, it can die at a high learning rate and pass no gradient); a lower --lr usually avoids it");
    }
}
