using System.Diagnostics;
using TransferKit.FineTune.Checkpoints;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// The real thing: <c>transferkit finetune</c> in a child process, killed with SIGKILL once epoch 2's checkpoint is
/// written, then <c>--resume</c>d in another process, ends with weights bit-identical to an
/// uninterrupted run with the same seed. Separate processes also prove the epoch order, augmentation and cached views
/// do not depend on anything per-process (hash seeds, thread timing).
/// </summary>
public class KillAndResumeTests
{
    static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(120);

    /// <summary>The built CLI beside the test assembly (the test project references it).</summary>
    static string Cli()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "transferkit.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"The transferkit CLI was not built next to the tests ({dll}).", dll);
    }

    static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Cli());
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>Runs the CLI to the end; fails with its output unless it exits with 0.</summary>
    static string RunToEnd(IEnumerable<string> args)
    {
        using var p = Process.Start(StartInfo(args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(ProcessTimeout)) { p.Kill(); Assert.Fail($"transferkit did not finish in {ProcessTimeout}: {stdout.Result}"); }
        Assert.True(p.ExitCode == 0, $"exit code {p.ExitCode}\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }

    /// <summary>
    /// Starts the CLI with <see cref="CheckpointKillSwitch"/> set, so it SIGKILLs itself the moment epoch 2's
    /// <c>last.tkc</c> is in place. A kill sent from here on reading "epoch 2/" raced the child: on a busy host the line
    /// arrived after the tiny run had finished its last epochs.
    /// </summary>
    static string RunAndKillAfterEpochTwo(IEnumerable<string> args)
    {
        var psi = StartInfo(args);
        psi.Environment[CheckpointKillSwitch.Variable] = "last-replaced:2";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(ProcessTimeout)) { p.Kill(); Assert.Fail($"transferkit did not stop in {ProcessTimeout}: {stdout.Result}"); }
        var output = stdout.Result + stderr.Result;
        Assert.True(p.ExitCode != 0, $"the run was not killed after epoch 2:\n{output}");
        return output;
    }

    [Theory]
    [InlineData("full", 5)]        // the loader path throughout; killed mid-phase, so the optimizer state matters
    [InlineData("two-phase", 4)]   // cached head phase, then killed in the first epoch of the full phase
    public void KilledInEpochThreeAndResumedEndsBitIdentical(string recipe, int epochs)
    {
        var data = MnistFolder.Create(330, 0, 1, 2);
        var root = Directory.CreateTempSubdirectory("transferkit-kill-").FullName;
        string reference = Path.Combine(root, "reference"), killed = Path.Combine(root, "killed");
        string[] Args(string output) =>
        [
            "finetune", "--model", SharedAssets.Model("mnist-8.onnx"), "--data", data, "--out", output, "--recipe", recipe,
            "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--lr", "1e-3", "--seed", "7", "--threads", "2",
        ];

        RunToEnd(Args(reference));

        var firstLog = RunAndKillAfterEpochTwo(Args(killed));
        Assert.False(File.Exists(Path.Combine(killed, "tuned.onnx")), firstLog);
        var atKill = RunCheckpoint.Load(RunCheckpoint.LastPath(killed));
        Assert.InRange(atKill.Position.EpochsDone, 2, epochs - 1);

        var resumeLog = RunToEnd(["finetune", "--resume", killed]);
        Assert.Contains($"resuming {killed} after epoch {atKill.Position.EpochsDone}", resumeLog);
        Assert.DoesNotMatch(@"(?m)^epoch\s+1/", resumeLog);
        RunFiles.AssertSameRun(reference, killed);
    }
}
