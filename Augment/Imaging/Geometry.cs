namespace TransferKit.Augment.Imaging;

/// <summary>
/// The state threaded through the geometric transforms of one sample: the size of the virtual image
/// produced so far and the map from its pixels back to the (oriented, full-resolution) source.
/// Nothing is resampled until every geometric transform has contributed.
/// </summary>
public struct Geometry
{
    public Geometry(int sourceWidth, int sourceHeight)
    {
        Width = sourceWidth;
        Height = sourceHeight;
        OutputToSource = Affine2D.Identity;
    }

    /// <summary>Current output width.</summary>
    public int Width;

    /// <summary>Current output height.</summary>
    public int Height;

    /// <summary>Output pixel → source pixel.</summary>
    public Affine2D OutputToSource;

    /// <summary>
    /// Replaces the current image by a new one of size <paramref name="width"/>×<paramref name="height"/>
    /// whose pixels map into the current image by <paramref name="newToCurrent"/>.
    /// </summary>
    public void Push(Affine2D newToCurrent, int width, int height)
    {
        OutputToSource = OutputToSource * newToCurrent;
        Width = width;
        Height = height;
    }
}
