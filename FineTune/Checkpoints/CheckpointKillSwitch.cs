using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TransferKit.FineTune.Checkpoints;

/// <summary>
/// For kill tests of the CLI (tests/kill-resume.sh): <c>TRANSFERKIT_KILL_AT=STEP:EPOCH</c> makes a fine-tune process
/// kill itself (SIGKILL on Unix: no handler, no flush, no cleanup) when its checkpoint write of that epoch reaches
/// STEP, one of <c>last-written</c>, <c>last-replaced</c>, <c>best-written</c>, <c>best-replaced</c>
/// (<see cref="CheckpointStep"/>). Random kills rarely land inside a write of a few milliseconds; this lands there.
/// </summary>
public static partial class CheckpointKillSwitch
{
    public const string Variable = "TRANSFERKIT_KILL_AT";

    /// <summary>The stop the variable asks for, or null when it is not set; a malformed value is an <see cref="ArgumentException"/>.</summary>
    public static Action<CheckpointStep, int>? FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(value)) return null;
        var m = Spec().Match(value);
        if (!m.Success || !Enum.TryParse<CheckpointStep>(m.Groups[1].Value.Replace("-", ""), ignoreCase: true, out var step))
            throw new ArgumentException($"{Variable}={value}: expected STEP:EPOCH with STEP one of last-written, last-replaced, best-written, best-replaced.");
        int epoch = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        return (s, e) =>
        {
            if (s != step || e != epoch) return;
            Console.Out.Flush();
            Process.GetCurrentProcess().Kill();
        };
    }

    [GeneratedRegex(@"^([a-z-]+):([0-9]{1,6})$")]
    private static partial Regex Spec();
}
