namespace TransferKit.Augment.Transforms;

/// <summary>Channel order of the network input.</summary>
public enum ChannelOrder
{
    Rgb,
    Bgr,
}

/// <summary>Value range of the network input before mean/std.</summary>
public enum ValueRange
{
    /// <summary>0–1 (torchvision).</summary>
    Unit,
    /// <summary>0–255 (Caffe).</summary>
    Byte,
}
