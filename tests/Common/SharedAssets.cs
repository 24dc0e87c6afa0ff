namespace TransferKit.Tests.Common;

/// <summary>
/// Locates the pretrained models and datasets that live beside the repository in <c>../shared</c>
/// (or wherever <c>TRANSFERKIT_SHARED</c> points). They are never copied into the project.
/// A missing asset fails the test with a message that says what to set; it never passes silently.
/// </summary>
public static class SharedAssets
{
    public const string EnvironmentVariable = "TRANSFERKIT_SHARED";

    static readonly Lazy<string> RootLazy = new(Locate);

    /// <summary>The shared folder (holding <c>models/</c> and <c>datasets/</c>).</summary>
    public static string Root => RootLazy.Value;

    public static string Model(string relative) => Existing(Path.Combine(Root, "models", relative));

    public static string Dataset(string relative) => Existing(Path.Combine(Root, "datasets", relative));

    static string Existing(string path)
    {
        if (File.Exists(path) || Directory.Exists(path)) return path;
        throw new FileNotFoundException(
            $"Shared asset '{path}' is missing. Put the shared assets beside the repository as ../shared " +
            $"or set {EnvironmentVariable} to the folder that holds models/ and datasets/.", path);
    }

    static string Locate()
    {
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(env))
        {
            if (Directory.Exists(env)) return Path.GetFullPath(env);
            throw new DirectoryNotFoundException($"{EnvironmentVariable}='{env}' does not exist.");
        }
        // Walk up from the test binaries to the repository root (the folder holding TransferKit.sln).
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TransferKit.sln")))
            {
                var shared = Path.Combine(dir.Parent?.FullName ?? dir.FullName, "shared");
                if (Directory.Exists(shared)) return shared;
                throw new DirectoryNotFoundException(
                    $"Shared assets not found at '{shared}'. Set {EnvironmentVariable} to the folder that holds models/ and datasets/.");
            }
        }
        throw new DirectoryNotFoundException(
            $"Could not find the repository root from '{AppContext.BaseDirectory}'. Set {EnvironmentVariable} to the folder that holds models/ and datasets/.");
    }
}
