using System.CommandLine;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Preview;
using TransferKit.Augment.Transforms;

namespace TransferKit.FineTune.Cli;

/// <summary><c>transferkit augment-preview</c>: a PNG grid of augmented samples labelled with their classes.</summary>
public static class AugmentPreviewCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Dataset root (train/ + val/) or a folder with one subfolder per class.", Required = true };
        var transforms = new Option<string>("--transforms") { Description = "Transform spec or level (none|light|default|strong).", DefaultValueFactory = _ => "default" };
        var seed = new Option<ulong>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0UL };
        var count = new Option<int>("--count") { Description = "Number of samples.", DefaultValueFactory = _ => 16 };
        var size = new Option<int>("--size") { Description = "Output size used by a level.", DefaultValueFactory = _ => 224 }.Size();
        var output = new Option<string>("--out") { Description = "PNG file to write.", Required = true };
        var command = new Command("augment-preview", "Draw a grid of augmented samples with their class names.")
        {
            data, transforms, seed, count, size, output,
        };
        command.SetAction(parse =>
        {
            try
            {
                var spec = parse.GetValue(transforms)!;
                var pipeline = AugmentLevels.IsLevel(spec) ? AugmentLevels.Get(spec, parse.GetValue(size), Preprocessing.TorchvisionImageNet)
                    : TransformPipeline.Parse(spec);
                var root = parse.GetValue(data)!;
                var dataset = Directory.Exists(Path.Combine(root, "train")) ? ImageFolderDataset.Open(root).Train : ImageFolderDataset.FromFolder(root);
                var skipped = PreviewGrid.Render(dataset, pipeline, parse.GetValue(seed), parse.GetValue(count), parse.GetValue(output)!);
                foreach (var s in skipped) Console.Error.WriteLine($"skipped {s.Path}: {s.Reason}");
                Console.WriteLine($"wrote {parse.GetValue(output)} ({pipeline})");
                return 0;
            }
            catch (Exception e) when (e is FormatException or ArgumentException or IOException or InvalidDataException or InvalidOperationException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"augment-preview: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
