using System.Security.Cryptography;
using System.Text.Json;
using TransferKit.FineTune.Catalog;
using TransferKit.Importers.Onnx;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests.Catalog;

/// <summary>
/// Resolving catalogue names to local files: the models folder first, then the cache, then a download (here from a
/// loopback server) that is hash-checked before it is kept.
/// </summary>
public sealed class ModelResolverTests : IDisposable
{
    readonly LoopbackServer _server = new();
    readonly string _root = Directory.CreateTempSubdirectory("transferkit-resolver-").FullName;
    readonly StringWriter _log = new();

    string Cache => Path.Combine(_root, "cache");

    public void Dispose()
    {
        _server.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    static byte[] SmallModel() => File.ReadAllBytes(SharedAssets.Model("mnist-8.onnx"));

    static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    static CatalogEntry Entry(string name, string file, string? url, string sha256) => new()
    {
        Name = name, File = file, Url = url, Sha256 = sha256, Input = new CatalogInput(1, 28, 28),
        Preprocessing = JsonSerializer.SerializeToElement("mnist"), Classes = 10,
    };

    ModelResolver Resolver(string? modelsFolder, params CatalogEntry[] entries) =>
        new(new ModelCatalog(entries), modelsFolder, Cache, new ModelDownloader(progress: _log), _log);

    /// <summary>Every file under the cache folder (none when it does not exist).</summary>
    string[] CacheFiles() => Directory.Exists(Cache) ? Directory.GetFiles(Cache, "*", SearchOption.AllDirectories) : [];

    [Fact]
    public void DownloadsIntoTheCacheWithProgressAndChecksTheHash()
    {
        var bytes = SmallModel();
        var url = _server.Add("/models/tiny.onnx", bytes);
        var resolver = Resolver(null, Entry("tiny", "sub/tiny.onnx", url, Sha256(bytes)));

        var path = resolver.Resolve("tiny");

        Assert.Equal(Path.Combine(Cache, "sub", "tiny.onnx"), path);
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Equal([path], CacheFiles());
        Assert.Equal(1, _server.Requests);
        Assert.Contains(url, _log.ToString());
        Assert.Contains("100%", _log.ToString());
        Assert.Equal(10, OnnxImporter.Import(path).Outputs[0].Dims[1]);
    }

    [Fact]
    public void AHashMismatchNamesBothHashesAndTheUrlAndLeavesNoFile()
    {
        var bytes = SmallModel();
        var url = _server.Add("/tiny.onnx", bytes);
        var expected = Sha256([.. bytes, 0]);
        var resolver = Resolver(null, Entry("tiny", "tiny.onnx", url, expected));

        var e = Assert.Throws<ModelDownloadException>(() => resolver.Resolve("tiny"));

        Assert.Contains(url, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Contains(Sha256(bytes), e.Message);
        Assert.Empty(CacheFiles());
    }

    [Fact]
    public void AServerErrorIsReportedWithItsStatusAndLeavesNoFile()
    {
        var url = _server.BaseUrl + "/missing.onnx";
        var resolver = Resolver(null, Entry("gone", "gone.onnx", url, Sha256(SmallModel())));

        var e = Assert.Throws<ModelDownloadException>(() => resolver.Resolve("gone"));

        Assert.Contains("404", e.Message);
        Assert.Contains(url, e.Message);
        Assert.Equal(1, _server.Requests);
        Assert.Empty(CacheFiles());
        // Where it looked and how to point it at local copies, before the download and in the error.
        Assert.Contains(Cache, e.Message);
        Assert.Contains(ModelCatalog.ModelsEnvironmentVariable, e.Message);
        Assert.Contains($"is not in the cache {Cache}", _log.ToString());
        Assert.Contains(ModelCatalog.ModelsEnvironmentVariable, _log.ToString());
    }

    [Fact]
    public void AMissWithAModelsFolderNamesThatFolderBeforeDownloading()
    {
        var bytes = SmallModel();
        var url = _server.Add("/models/tiny.onnx", bytes);
        var models = Directory.CreateDirectory(Path.Combine(_root, "models")).FullName;
        Resolver(models, Entry("tiny", "tiny.onnx", url, Sha256(bytes))).Resolve("tiny");
        Assert.Contains($"is not in {models} ({ModelCatalog.ModelsEnvironmentVariable}) or the cache {Cache}; downloading {url}", _log.ToString());
    }

    [Fact]
    public void ASecondResolveIsACacheHitWithoutARequest()
    {
        var bytes = SmallModel();
        var entry = Entry("tiny", "tiny.onnx", _server.Add("/tiny.onnx", bytes), Sha256(bytes));
        var first = Resolver(null, entry).Resolve("tiny");
        var second = Resolver(null, entry).Resolve("TINY");

        Assert.Equal(first, second);
        Assert.Equal(1, _server.Requests);

        // A cached file that no longer has the catalogue's hash is an error naming it, not a silent re-download.
        File.WriteAllBytes(first, [.. bytes, 1]);
        var e = Assert.Throws<InvalidDataException>(() => Resolver(null, entry).Resolve("tiny"));
        Assert.Contains(first, e.Message);
        Assert.Equal(1, _server.Requests);
    }

    [Fact]
    public void TheModelsFolderComesBeforeTheCacheAndTheServer()
    {
        var bytes = SmallModel();
        var entry = Entry("tiny", "nested/tiny.onnx", _server.Add("/tiny.onnx", bytes), Sha256(bytes));
        var models = Directory.CreateDirectory(Path.Combine(_root, "models")).FullName;
        // Found by its catalogue path or, as here, by file name at the top of the folder.
        File.WriteAllBytes(Path.Combine(models, "tiny.onnx"), bytes);

        var path = Resolver(models, entry).Resolve("tiny");

        Assert.Equal(Path.Combine(models, "tiny.onnx"), path);
        Assert.Equal(0, _server.Requests);
        Assert.Empty(CacheFiles());

        File.WriteAllBytes(Path.Combine(models, "tiny.onnx"), [.. bytes, 2]);
        var e = Assert.Throws<InvalidDataException>(() => Resolver(models, entry).Resolve("tiny"));
        Assert.Contains(Path.Combine(models, "tiny.onnx"), e.Message);
        Assert.Equal(0, _server.Requests);
    }

    [Fact]
    public void AnExistingPathStaysAPathAndAnUnknownNameListsTheKnownOnes()
    {
        var resolver = Resolver(null, Entry("tiny", "tiny.onnx", null, Sha256(SmallModel())), Entry("other", "other.onnx", null, Sha256([])));
        var file = SharedAssets.Model("mnist-8.onnx");
        Assert.Equal(file, resolver.Resolve(file));

        var unknown = Assert.Throws<FileNotFoundException>(() => resolver.Resolve("nosuch"));
        Assert.Contains("'nosuch'", unknown.Message);
        Assert.Contains("tiny, other", unknown.Message);

        var unpublished = Assert.Throws<FileNotFoundException>(() => resolver.Resolve("tiny"));
        Assert.Contains(ModelCatalog.ModelsEnvironmentVariable, unpublished.Message);
        Assert.Equal(0, _server.Requests);
    }

    [Fact]
    public void ACataloguePathThatLeavesTheFolderIsRefused()
    {
        var resolver = Resolver(null, Entry("evil", "../evil.onnx", _server.Add("/evil.onnx", [1]), Sha256([1])));
        Assert.Throws<InvalidDataException>(() => resolver.Resolve("evil"));
        Assert.Equal(0, _server.Requests);
        Assert.False(File.Exists(Path.Combine(_root, "evil.onnx")));
    }

    /// <summary>
    /// The shipped catalogue's squeezenet1.1 is published only as float16: downloading the original (served here
    /// under its published file name) and widening it must give exactly the shared float32 file.
    /// </summary>
    [Fact]
    public void TheFloat32SqueezeNetIsDerivedFromTheDownloadedFloat16Original()
    {
        var shipped = ModelCatalog.Default;
        var fp16 = shipped.ByName("squeezenet1.1-fp16")!;
        var published = new Uri(fp16.Url!).Segments[^1];
        var local = _server.Add("/" + published, File.ReadAllBytes(SharedAssets.Model(fp16.File)));
        var catalog = new ModelCatalog(shipped.Entries.Select(e => e.Url == fp16.Url ? e with { Url = local } : e).ToList());
        var resolver = new ModelResolver(catalog, null, Cache, new ModelDownloader(progress: _log), _log);

        var path = resolver.Resolve("squeezenet1.1");

        Assert.Equal(File.ReadAllBytes(SharedAssets.Model("squeezenet1.1_imagenet_fp32.onnx")), File.ReadAllBytes(path));
        Assert.Equal(1, _server.Requests);
        Assert.Equal(2, CacheFiles().Length);
        Assert.Contains("deriving squeezenet1.1", _log.ToString());
        Assert.Equal(path, resolver.Resolve("squeezenet1.1"));
        Assert.Equal(1, _server.Requests);
    }

    [Fact]
    public void EveryShippedNameResolvesToItsSharedFileWithoutTheNetwork()
    {
        var shared = Path.GetDirectoryName(SharedAssets.Model("SOURCES.md"))!;
        var downloader = new ModelDownloader(progress: _log);
        var resolver = new ModelResolver(ModelCatalog.Default, shared, Cache, downloader, _log);
        Assert.NotEmpty(resolver.Catalog.Entries);
        foreach (var e in resolver.Catalog.Entries)
            Assert.Equal(Path.GetFullPath(SharedAssets.Model(e.File)), resolver.Resolve(e.Name));
        Assert.Equal(0, downloader.Requests);
        Assert.Empty(CacheFiles());
    }
}
