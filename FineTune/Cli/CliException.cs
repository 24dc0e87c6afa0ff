namespace TransferKit.FineTune.Cli;

/// <summary>A usage or input problem reported to the user as one line, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);
