namespace TransferKit.FineTune.Progress;

/// <summary>
/// The log of a job run with <c>--quiet</c>: progress, per-epoch and set-up lines are dropped; lines that start with
/// <c>warning:</c> still reach <paramref name="warnings"/> (standard error), so nothing a user must act on is lost.
/// </summary>
public sealed class QuietLog(TextWriter warnings) : TextWriter
{
    readonly System.Text.StringBuilder _line = new();

    public override System.Text.Encoding Encoding => warnings.Encoding;

    public override void Write(char value)
    {
        if (value != '\n') { _line.Append(value); return; }
        var line = _line.ToString().TrimEnd('\r');
        _line.Clear();
        if (line.StartsWith("warning:", StringComparison.Ordinal)) warnings.WriteLine(line);
    }
}
