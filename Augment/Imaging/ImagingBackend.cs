using SkiaSharp;

namespace TransferKit.Augment.Imaging;

/// <summary>
/// The imaging backend (SkiaSharp). <see cref="EnsureLoaded"/> turns a missing native library into one clear
/// message instead of a type-initialisation failure deep inside a worker thread.
/// </summary>
public static class ImagingBackend
{
    static readonly Lazy<string> Loaded = new(Load);

    /// <summary>The native Skia version, loading the library on first use.</summary>
    public static string Version => Loaded.Value;

    /// <summary>Loads the native library now; throws <see cref="InvalidOperationException"/> saying what is missing.</summary>
    public static void EnsureLoaded() => _ = Loaded.Value;

    static string Load()
    {
        try
        {
            using var bitmap = new SKBitmap(1, 1);
            return SkiaSharpVersion.Native.ToString();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException or EntryPointNotFoundException)
        {
            throw new InvalidOperationException(
                "The SkiaSharp native library (libSkiaSharp) could not be loaded. On Linux it comes from the " +
                "SkiaSharp.NativeAssets.Linux.NoDependencies package, which must match the SkiaSharp version; " +
                $"check that runtimes/<rid>/native/libSkiaSharp.so was copied beside the application. ({e.Message})", e);
        }
    }
}
