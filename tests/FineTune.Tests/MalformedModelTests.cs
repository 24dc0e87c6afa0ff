using System.Diagnostics;
using Xunit.Abstractions;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// Every model of the malformed corpus (<see cref="MalformedModels"/>), run through <c>inspect</c> and, when it
/// imports, <c>verify</c>, as a user runs them: each ends in success (0), a parity failure (1) or one clear error line
/// (2) — never an unhandled exception, a stack trace or a hang — within the time and allocation limits.
/// </summary>
[Collection("Console")]
public class MalformedModelTests(ITestOutputHelper output)
{
    const int MinimumCases = 500;
    static readonly TimeSpan CaseTimeLimit = TimeSpan.FromSeconds(30);
    const long CaseAllocationLimit = 1_500_000_000;

    [Fact]
    public void EveryMalformedModelEndsInSuccessOrAClearError()
    {
        var root = Directory.CreateTempSubdirectory("transferkit-malformed-").FullName;
        var cases = MalformedModels.Generate(root);
        Assert.True(cases.Count >= MinimumCases, $"{cases.Count} cases");
        var failures = new List<string>();
        var outcomes = new Dictionary<string, int>();
        foreach (var c in cases)
        {
            foreach (var verb in new[] { "inspect", "verify" })
            {
                var clock = Stopwatch.StartNew();
                long before = GC.GetTotalAllocatedBytes();
                (int Code, string Out, string Err) r;
                try { r = CliTests.Run(verb, c.Path); }
                catch (Exception e) { failures.Add($"{c} {verb}: unhandled {e.GetType().Name}: {e.Message}"); break; }
                long allocated = GC.GetTotalAllocatedBytes() - before;
                var key = $"{c.Category} {verb} exit {r.Code}";
                outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
                if (r.Code is not (0 or 1 or 2)) failures.Add($"{c} {verb}: exit {r.Code}");
                if (r.Err.Contains("   at ") || r.Err.Contains("Unhandled")) failures.Add($"{c} {verb}: stack trace: {r.Err[..Math.Min(300, r.Err.Length)]}");
                if (r.Code == 2 && !r.Err.StartsWith("error: ", StringComparison.Ordinal)) failures.Add($"{c} {verb}: exit 2 without an error line: {r.Err}");
                if (r.Code == 2 && r.Err.Contains("TRANSFERKIT_DEBUG=1 shows where")) failures.Add($"{c} {verb}: an unchecked exception: {r.Err.Trim()}");
                if (clock.Elapsed > CaseTimeLimit) failures.Add($"{c} {verb}: took {clock.Elapsed}");
                if (allocated > CaseAllocationLimit) failures.Add($"{c} {verb}: allocated {allocated:N0} bytes");
                if (r.Code != 0) break;   // verify only what imports
            }
        }
        output.WriteLine($"{cases.Count} cases; outcomes:\n{string.Join("\n", outcomes.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}"))}");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases failed:\n{string.Join("\n", failures.Take(40))}\n\noutcomes:\n{string.Join("\n", outcomes.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}"))}");
    }
}
