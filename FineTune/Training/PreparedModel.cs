using TransferKit.Augment.Transforms;
using TransferKit.FineTune.Catalog;
using TransferKit.FineTune.Heads;
using TransferKit.Importers.Onnx;

namespace TransferKit.FineTune.Training;

/// <summary>
/// A model ready to train: imported, its head replaced for the dataset's classes (softmax set aside), with the
/// preprocessing from the catalogue and the training (augmenting) and evaluation pipelines built from it.
/// </summary>
public sealed record PreparedModel(ImportedModel Model, InputConvention Convention, Head Head, TransformPipeline TrainPipeline, TransformPipeline EvalPipeline);
