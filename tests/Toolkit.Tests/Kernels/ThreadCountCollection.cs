namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>
/// Tests that change the process-wide <see cref="Threading.Workers.MaxThreads"/>. Kernels size their per-thread scratch
/// from it, so these tests run alone: a thread count changed while another test's kernel runs would hand that kernel
/// more threads than its workspace was sized for.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadCountCollection
{
    public const string Name = "Thread count";
}
