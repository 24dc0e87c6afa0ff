using System.IO.Compression;
using System.Xml.Linq;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// The NuGet packages: the four libraries and the tool packed (from the build the tests run on) into a temporary folder feed,
/// their metadata checked, a fresh console project built against TransferKit.FineTune by PackageReference alone —
/// restored offline from that folder and the local package cache — and run, and the tool installed from the feed
/// and run.
/// </summary>
public class PackagingTests
{
    static readonly string[] Libraries = ["Toolkit", "Importers", "Augment", "FineTune"];

    static string GlobalPackages() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    static XElement Nuspec(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var entry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/'));
        using var s = entry.Open();
        return XElement.Load(s);
    }

    static string? Meta(XElement nuspec, string name) =>
        nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    static string[] Entries(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        return zip.Entries.Select(e => e.FullName).ToArray();
    }

    [Fact]
    public void PackagesPackRestoreOfflineIntoAFreshProjectAndTheToolRuns()
    {
        var repo = ReadmeProgramTests.RepositoryRoot();
        // A version of this run alone, so no package of an earlier run in the local cache stands in for these.
        var version = $"0.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        var root = Directory.CreateTempSubdirectory("transferkit-packages-").FullName;
        var feed = Path.Combine(root, "feed");
        try
        {
            var build = ReadmeProgramTests.Dotnet(repo, "build", Path.Combine("FineTune", "Tool"), "-c", ReadmeProgramTests.Configuration, "--disable-build-servers", "-nodeReuse:false", "-p:UseSharedCompilation=false");
            Assert.True(build.Code == 0, $"build failed:\n{build.Output}");
            foreach (var project in Libraries.Append(Path.Combine("FineTune", "Tool")))
            {
                var pack = ReadmeProgramTests.Dotnet(repo, "pack", project, "-c", ReadmeProgramTests.Configuration, "--no-build", "-o", feed, "--disable-build-servers", "-nodeReuse:false",
                    $"-p:PackageVersion={version}", "-p:RepositoryUrl=https://example.invalid/transferkit");
                Assert.True(pack.Code == 0, $"pack {project} failed:\n{pack.Output}");
            }

            foreach (var lib in Libraries)
            {
                var id = $"TransferKit.{lib}";
                var nupkg = Path.Combine(feed, $"{id}.{version}.nupkg");
                Assert.True(File.Exists(nupkg), $"{nupkg} missing");
                Assert.True(File.Exists(Path.ChangeExtension(nupkg, ".snupkg")), $"{id}: no symbol package");
                var nuspec = Nuspec(nupkg);
                Assert.Equal(id, Meta(nuspec, "id"));
                Assert.Equal("MIT", Meta(nuspec, "license"));
                Assert.Equal("README.md", Meta(nuspec, "readme"));
                Assert.False(string.IsNullOrWhiteSpace(Meta(nuspec, "description")));
                Assert.Equal("https://example.invalid/transferkit", nuspec.Descendants().Single(e => e.Name.LocalName == "repository").Attribute("url")?.Value);
                var entries = Entries(nupkg);
                Assert.Contains("README.md", entries);
                Assert.Contains(entries, e => e.StartsWith("lib/net10.0/", StringComparison.Ordinal) && e.EndsWith(".xml", StringComparison.Ordinal));   // XML docs
                Assert.DoesNotContain(nuspec.Descendants(), e => e.Name.LocalName == "packageType" && e.Attribute("name")?.Value == "DotnetTool");
            }
            var fineTuneDeps = Nuspec(Path.Combine(feed, $"TransferKit.FineTune.{version}.nupkg")).Descendants().Where(e => e.Name.LocalName == "dependency")
                .Select(e => (e.Attribute("id")!.Value, e.Attribute("version")!.Value)).ToList();
            foreach (var lib in new[] { "Toolkit", "Importers", "Augment" }) Assert.Contains(($"TransferKit.{lib}", version), fineTuneDeps);
            Assert.Contains("contentFiles/any/any/models/catalog.json", Entries(Path.Combine(feed, $"TransferKit.FineTune.{version}.nupkg")));

            var tool = Path.Combine(feed, $"TransferKit.{version}.nupkg");
            Assert.Contains(Nuspec(tool).Descendants(), e => e.Name.LocalName == "packageType" && e.Attribute("name")?.Value == "DotnetTool");
            var toolEntries = Entries(tool);
            Assert.Contains("tools/net10.0/any/models/catalog.json", toolEntries);
            Assert.DoesNotContain(toolEntries, e => e.Contains("/runtimes/", StringComparison.Ordinal) && e.EndsWith(".pdb", StringComparison.Ordinal));

            // Offline: the temporary feed for TransferKit's packages, the local cache for everything they depend on.
            var config = Path.Combine(root, "nuget.config");
            File.WriteAllText(config, $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="transferkit" value="{feed}" />
                    <add key="local-cache" value="{GlobalPackages()}" />
                  </packageSources>
                </configuration>
                """);
            var app = Directory.CreateDirectory(Path.Combine(root, "app")).FullName;
            File.Copy(config, Path.Combine(app, "nuget.config"));
            File.WriteAllText(Path.Combine(app, "app.csproj"), ReadmeProgramTests.ConsoleProject($"<PackageReference Include=\"TransferKit.FineTune\" Version=\"{version}\" />"));
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using TransferKit;
                using TransferKit.FineTune.Callbacks;

                var model = OnnxModel.Load(args[0]);
                var data = ImageFolder.Load(args[1], Transforms.Light);
                var learner = new Learner(model, data, args[2]) { Epochs = 1, BatchSize = 8, CacheViews = 1, Threads = 2 };
                var fit = learner.Fit(callbacks: [new EarlyStopping(patience: 1, monitor: "val_loss")]);
                Console.WriteLine($"fitted {fit.EpochsRun} epoch, {model.Parameters} parameters");
                Console.WriteLine(File.Exists(Path.Combine(AppContext.BaseDirectory, "models", "catalog.json")) ? "catalogue beside the app" : "no catalogue");
                """);
            var appBuild = ReadmeProgramTests.Dotnet(app, "build", "-c", "Release", "--disable-build-servers", "-nodeReuse:false", "-p:UseSharedCompilation=false");
            Assert.True(appBuild.Code == 0, $"the package consumer did not build:\n{appBuild.Output}");
            var assets = File.ReadAllText(Path.Combine(app, "obj", "project.assets.json"));
            Assert.Contains($"TransferKit.Toolkit/{version}", assets);   // from the feed, not from the repository's projects
            Assert.DoesNotContain("\"type\": \"project\"", assets);
            var data = MnistFolder.Create(12, 0, 1);
            var run = Path.Combine(root, "run");
            var result = ReadmeProgramTests.Dotnet(app, Path.Combine(app, "bin", "Release", "net10.0", "app.dll"), SharedAssets.Model("mnist-8.onnx"), data, run);
            Assert.True(result.Code == 0, $"the package consumer failed:\n{result.Output}");
            Assert.Contains("fitted 1 epoch, 5994 parameters", result.Output);
            Assert.Contains("catalogue beside the app", result.Output);
            Assert.Equal(2, OnnxImporter.Import(Path.Combine(run, "tuned.onnx")).Outputs[0].Dims[1]);

            var tools = Path.Combine(root, "tools");
            var install = ReadmeProgramTests.Dotnet(root, "tool", "install", "TransferKit", "--version", version, "--tool-path", tools, "--configfile", config);
            Assert.True(install.Code == 0, $"tool install failed:\n{install.Output}");
            var help = ReadmeProgramTests.Dotnet(root, Path.Combine(tools, ".store", "transferkit", version, "transferkit", version, "tools", "net10.0", "any", "TransferKit.Tool.dll"), "--help");
            Assert.True(help.Code == 0, help.Output);
            foreach (var verb in new[] { "finetune", "verify", "inspect", "export", "evaluate", "predict" }) Assert.Contains(verb, help.Output);
            Assert.True(File.Exists(Path.Combine(tools, "transferkit")), "no transferkit command in the tool path");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
            // This run's packages were extracted into the local cache; they are of no use to a later run.
            foreach (var id in Libraries.Select(l => $"transferkit.{l.ToLowerInvariant()}").Append("transferkit"))
            {
                var dir = Path.Combine(GlobalPackages(), id, version);
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
                var folder = Path.GetDirectoryName(dir)!;
                if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
            }
        }
    }
}
