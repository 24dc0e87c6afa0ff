namespace TransferKit.FineTune.Training;

/// <summary>One row of metrics.csv.</summary>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double ValLoss, double ValAccuracy, double LearningRate, double Seconds)
{
    public const string CsvHeader = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds";

    public string ToCsv() => string.Join(",", Epoch, F(TrainLoss), F(TrainAccuracy), F(ValLoss), F(ValAccuracy), F(LearningRate), F(Seconds));

    static string F(double v) => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture);
}
