using System.Reflection;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;

namespace TransferKit.Augment.Imaging;

/// <summary>
/// The imaging backend: SixLabors.ImageSharp 2.1 (fully managed, so nothing native to load). Every decode and encode
/// in Augment goes through <see cref="Configuration"/>, which knows only the formats TransferKit reads (JPEG, PNG,
/// GIF, BMP, WebP, TGA), decodes only the first frame of an animation, runs single-threaded inside one image (the
/// loader already decodes one image per worker) and allocates through a <see cref="MemoryAllocator"/> whose
/// single-buffer limit is <see cref="AllocationLimitMegabytes"/>, so no file can make the process allocate gigabytes
/// even if a header slipped past <see cref="ImageLimits"/>.
/// </summary>
public static class ImagingBackend
{
    /// <summary>
    /// Largest single buffer ImageSharp may allocate, in MB: the RGB pixels of an image at the default
    /// <see cref="ImageLimits.DefaultMaxPixels"/> (300 MB) plus headroom for a decoder's planes.
    /// </summary>
    public const int AllocationLimitMegabytes = 512;

    /// <summary>Memory ImageSharp's pool may keep for reuse between images, in MB.</summary>
    public const int PoolMegabytes = 64;

    /// <summary>The shared, thread-safe configuration every Augment decode and encode uses.</summary>
    public static Configuration Configuration { get; } = Create();

    /// <summary>The ImageSharp version in use, e.g. "2.1.13".</summary>
    public static string Version { get; } = typeof(Image).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?
        .InformationalVersion.Split('+')[0] ?? typeof(Image).Assembly.GetName().Version!.ToString(3);

    /// <summary>Kept for callers that check the backend at start-up; ImageSharp is managed, so this only builds <see cref="Configuration"/>.</summary>
    public static void EnsureLoaded() => _ = Configuration;

    static Configuration Create()
    {
        var config = new Configuration(new JpegConfigurationModule(), new PngConfigurationModule(), new GifConfigurationModule(),
            new BmpConfigurationModule(), new WebpConfigurationModule(), new TgaConfigurationModule())
        {
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
            {
                AllocationLimitMegabytes = AllocationLimitMegabytes,
                MaximumPoolSizeMegabytes = PoolMegabytes,
            }),
            MaxDegreeOfParallelism = 1,
            // The resampler reads one span of pixels.
            PreferContiguousImageBuffers = true,
        };
        config.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        return config;
    }
}
