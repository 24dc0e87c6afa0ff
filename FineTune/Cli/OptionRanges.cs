using System.CommandLine;
using System.Globalization;
using TransferKit.FineTune.Training;

namespace TransferKit.FineTune.Cli;

/// <summary>
/// Range checks on numeric options, as parse errors: a value outside its range is refused before the verb runs, exit
/// 2, with a message naming the option. The bounds are <see cref="OptionLimits"/>' constants.
/// </summary>
static class OptionRanges
{
    public static Option<int> InRange(this Option<int> option, int min, int max, string? note = null)
    {
        option.Validators.Add(result =>
        {
            int v;
            try { v = result.GetValueOrDefault<int>(); }
            catch (InvalidOperationException) { return; }   // not a number: the parser reports that itself
            if (v < min || v > max)
                result.AddError($"{option.Name} {v.ToString(CultureInfo.InvariantCulture)} is out of range: {min} to {max}{(note == null ? "" : $" ({note})")}.");
        });
        return option;
    }

    public static Option<int> Threads(this Option<int> option) => option.InRange(0, OptionLimits.MaxThreads, "0: all cores");
    public static Option<int> Batch(this Option<int> option) => option.InRange(1, OptionLimits.MaxBatch);
    public static Option<int> Size(this Option<int> option) => option.InRange(1, OptionLimits.MaxImageSize, "pixels");
}
