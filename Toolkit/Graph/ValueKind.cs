namespace TransferKit.Toolkit.Graph;

/// <summary>What a value of the graph is.</summary>
public enum ValueKind
{
    /// <summary>Fed by the caller at every run.</summary>
    Input,
    /// <summary>A weight: constant data, trainable unless frozen.</summary>
    Parameter,
    /// <summary>Computed by a node.</summary>
    Activation,
}
