using TransferKit.FineTune.Cli;

return await TransferKitCommand.RunAsync(args);
