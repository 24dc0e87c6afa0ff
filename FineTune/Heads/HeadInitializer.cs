namespace TransferKit.FineTune.Heads;

/// <summary>How a new head's weights are drawn.</summary>
public enum HeadInitializer
{
    /// <summary>He/Kaiming uniform: U(±√(6/fan_in)) (for Relu bodies).</summary>
    Kaiming,
    /// <summary>Glorot/Xavier uniform: U(±√(6/(fan_in + fan_out))).</summary>
    Xavier,
    /// <summary>Normal N(0, 0.01²), as torchvision initializes SqueezeNet's final convolution.</summary>
    Normal,
}
