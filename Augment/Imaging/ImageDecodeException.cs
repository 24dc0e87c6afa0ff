namespace TransferKit.Augment.Imaging;

/// <summary>An image that cannot be used: the message names the file and the reason.</summary>
public sealed class ImageDecodeException : Exception
{
    public ImageDecodeException(string path, string reason)
        : base($"Cannot read image '{path}': {reason}")
    {
        Path = path;
        Reason = reason;
    }

    /// <summary>The file (or a description of the in-memory source).</summary>
    public string Path { get; }

    /// <summary>Why it was refused, without the path.</summary>
    public string Reason { get; }
}
