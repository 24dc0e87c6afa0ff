using TransferKit.FineTune.Training;
using System.CommandLine;
using System.Text.Json;
using TransferKit.Augment.Datasets;
using TransferKit.Augment.Loading;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;

namespace TransferKit.FineTune.Cli;

/// <summary><c>transferkit bench-data</c>: data loader throughput with the standard training transforms.</summary>
public static class BenchDataCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Folder with one subfolder per class.", Required = true };
        var size = new Option<int>("--size") { Description = "Output height and width.", DefaultValueFactory = _ => 224 }.Size();
        var threads = new Option<int>("--threads") { Description = "Worker threads.", DefaultValueFactory = _ => Environment.ProcessorCount }.InRange(1, OptionLimits.MaxThreads);
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 32 }.Batch();
        var epochs = new Option<int>("--epochs") { Description = "Timed epochs (after one warm-up epoch).", DefaultValueFactory = _ => 3 };
        var transforms = new Option<string?>("--transforms") { Description = "Transform spec or level (none|light|default|strong); default: RandomResizedCrop + flip + ColorJitter + Normalize." };
        var decodeCache = new Option<int>("--decode-cache") { Description = "MB of decoded images kept across epochs (0: decode every sample from its file, as the first epoch of a run does).", DefaultValueFactory = _ => DataLoaderOptions.DefaultDecodeCacheMegabytes };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("bench-data", "Measure data loading and augmentation throughput (images per second).")
        {
            data, size, threads, batch, epochs, transforms, decodeCache, json,
        };
        command.SetAction(parse =>
        {
            try
            {
                int s = parse.GetValue(size);
                var spec = parse.GetValue(transforms);
                var pipeline = string.IsNullOrWhiteSpace(spec) ? AugmentLevels.Get("default", s, Preprocessing.TorchvisionImageNet)
                    : AugmentLevels.IsLevel(spec) ? AugmentLevels.Get(spec, s, Preprocessing.TorchvisionImageNet)
                    : TransformPipeline.Parse(spec);
                var root = parse.GetValue(data)!;
                var dataset = ImageFolderDataset.FromFolder(root);
                var r = LoaderBenchmark.Run(dataset, pipeline, parse.GetValue(threads), parse.GetValue(batch), parse.GetValue(epochs),
                    decodeCacheMegabytes: parse.GetValue(decodeCache));
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["img_s"] = Math.Round(r.ImagesPerSecond, 1),
                        ["images"] = r.Images,
                        ["seconds"] = Math.Round(r.Seconds, 3),
                        ["cpu_ms_per_img"] = Math.Round(r.CpuMillisecondsPerImage, 3),
                        ["threads"] = r.Threads,
                        ["batch"] = r.BatchSize,
                        ["size"] = s,
                        ["skipped"] = r.Skipped,
                        ["skipped_list"] = r.SkippedFiles.Select(f => f.RelativeTo(root)).Select(f => new Dictionary<string, string> { ["path"] = f.Path, ["reason"] = f.Reason }).ToArray(),
                        ["decode_cache_mb"] = parse.GetValue(decodeCache),
                        ["transforms"] = r.Transforms,
                    }));
                }
                else
                {
                    Console.WriteLine($"{r.ImagesPerSecond:F1} img/s ({r.Images} images in {r.Seconds:F2} s, {r.Threads} threads, batch {r.BatchSize}, {r.Skipped} skipped, {r.CpuMillisecondsPerImage:F2} CPU ms per image, decode cache {parse.GetValue(decodeCache)} MB)");
                    Console.WriteLine($"transforms: {r.Transforms}");
                    Console.Write(SkippedFile.ConsoleListing(r.SkippedFiles, relativeTo: root));
                }
                return 0;
            }
            catch (Exception e) when (e is FormatException or ArgumentException or IOException or InvalidDataException or InvalidOperationException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"bench-data: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
