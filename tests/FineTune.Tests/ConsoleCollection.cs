namespace TransferKit.FineTune.Tests;

/// <summary>
/// The tests that run the command line in this process: they redirect the console, and some measure the process's
/// allocations (<see cref="GC.GetTotalAllocatedBytes(bool)"/>, which counts every thread) against a limit, so they run
/// one at a time and with no other test class running beside them — another class's allocations once pushed a
/// malformed model's <c>verify</c> past its limit.
/// </summary>
[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;
