namespace TransferKit.Toolkit.Tests;

/// <summary>
/// Tests that change <see cref="Threading.Workers.MaxThreads"/>, a process-wide setting, run in this collection: alone,
/// never beside tests whose kernels size their scratch for the setting at one moment and run at another.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadSettingCollection
{
    public const string Name = "Thread setting";
}
