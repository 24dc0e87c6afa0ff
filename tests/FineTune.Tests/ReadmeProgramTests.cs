using System.Diagnostics;
using System.Text.RegularExpressions;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// The README's "Use it from C#" program, as written there: put in a fresh console project that references the
/// FineTune project, built, and run on a few of the ants-and-bees images (copied into a temporary shared folder laid
/// out as ../shared, so the program's own paths resolve).
/// </summary>
public class ReadmeProgramTests
{
    static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The configuration these tests were built in (Release under tests/run.sh), which the builds they start use too.</summary>
    internal static string Configuration =>
        AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";

    /// <summary>The folder holding TransferKit.sln, found upwards from the test binaries.</summary>
    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TransferKit.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No TransferKit.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>The C# block of a README section.</summary>
    internal static string CSharpBlock(string section)
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        int at = readme.IndexOf("## " + section + "\n", StringComparison.Ordinal);
        Assert.True(at >= 0, $"README has no section '{section}'");
        var m = Regex.Match(readme[at..], "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(m.Success, $"README section '{section}' has no csharp block");
        return m.Groups[1].Value;
    }

    /// <summary>Runs the .NET host with <paramref name="args"/> in <paramref name="cwd"/>; exit code and output.</summary>
    internal static (int Code, string Output) Dotnet(string cwd, params string[] args)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var psi = new ProcessStartInfo(host, args) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // The test host's MSBuild settings would steer the child build; it starts clean.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            psi.Environment.Remove(key);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(ProcessTimeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(" ", args)} did not finish in {ProcessTimeout}");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>A console project's file with the given references and nothing from the repository's build settings.</summary>
    internal static string ConsoleProject(string references) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <ImplicitUsings>enable</ImplicitUsings>
            <Nullable>enable</Nullable>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
          </PropertyGroup>
          <ItemGroup>
            {references}
          </ItemGroup>
        </Project>
        """;

    /// <summary>
    /// A shared folder for the program: the model file it names, and the dataset it names cut to
    /// <paramref name="perClass"/> images per class and split.
    /// </summary>
    internal static void SharedSubset(string program, string shared, int perClass)
    {
        var paths = Regex.Matches(program, "\"\\.\\./shared/(models|datasets)/([^\"]+)\"").Select(m => (Kind: m.Groups[1].Value, Rel: m.Groups[2].Value)).ToList();
        Assert.Contains(paths, p => p.Kind == "models");
        Assert.Contains(paths, p => p.Kind == "datasets");
        foreach (var (kind, rel) in paths)
        {
            if (kind == "models")
            {
                var target = Path.Combine(shared, "models", rel);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(SharedAssets.Model(rel), target);
                continue;
            }
            var source = SharedAssets.Dataset(rel);
            foreach (var split in Directory.GetDirectories(source))
            foreach (var cls in Directory.GetDirectories(split))
            {
                var dir = Directory.CreateDirectory(Path.Combine(shared, "datasets", rel, Path.GetFileName(split), Path.GetFileName(cls))).FullName;
                foreach (var f in Directory.GetFiles(cls).Order(StringComparer.Ordinal).Take(perClass)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            }
        }
    }

    [Fact]
    public void TheReadmeProgramBuildsAgainstTheFineTuneProjectAndFineTunesAFewImages()
    {
        var program = CSharpBlock("Use it from C#");
        var root = Directory.CreateTempSubdirectory("transferkit-readme-").FullName;
        try
        {
            SharedSubset(program, Path.Combine(root, "shared"), perClass: 6);
            var app = Directory.CreateDirectory(Path.Combine(root, "app")).FullName;
            File.WriteAllText(Path.Combine(app, "Program.cs"), program);
            var fineTune = Path.Combine(RepositoryRoot(), "FineTune", "FineTune.csproj");
            File.WriteAllText(Path.Combine(app, "app.csproj"), ConsoleProject($"<ProjectReference Include=\"{fineTune}\" />"));

            var build = Dotnet(app, "build", "-c", Configuration, "--disable-build-servers", "-nodeReuse:false", "-p:UseSharedCompilation=false");
            Assert.True(build.Code == 0, $"build failed:\n{build.Output}");
            var run = Dotnet(app, Path.Combine(app, "bin", Configuration, "net10.0", "app.dll"));
            Assert.True(run.Code == 0, $"the program failed:\n{run.Output}");

            Assert.Matches(@"best epoch [12]: validation accuracy", run.Output);
            Assert.Contains("evaluated 12 images", run.Output);       // 6 ants and 6 bees in val/
            Assert.Contains("epoch 2: val_loss", run.Output);          // the program's own callback
            var tuned = Path.Combine(app, "tuned.onnx");
            Assert.True(File.Exists(tuned), run.Output);
            var model = OnnxImporter.Import(tuned);
            Assert.Equal(2, model.Outputs[0].Dims[1]);
            Assert.Contains("bees", model.Metadata["labels"]);
            Assert.Equal(3, File.ReadAllLines(Path.Combine(app, "runs", "ants-bees", "metrics.csv")).Length);
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
