// The transferkit command, packed as a .NET tool; the verbs are FineTune/Cli's.
return await TransferKit.FineTune.Cli.TransferKitCommand.RunAsync(args);
