namespace TransferKit.Augment.Imaging;

/// <summary>What an image header says, with EXIF orientation already applied to the size.</summary>
/// <param name="Width">Width as displayed (after orientation).</param>
/// <param name="Height">Height as displayed (after orientation).</param>
/// <param name="Format">Container format, e.g. "Jpeg", "Png".</param>
/// <param name="Orientation">EXIF orientation 1..8 (1 = as stored).</param>
public readonly record struct ImageHeader(int Width, int Height, string Format, int Orientation);
