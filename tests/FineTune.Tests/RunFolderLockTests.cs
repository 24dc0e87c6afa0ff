using System.Diagnostics;
using TransferKit.FineTune.Checkpoints;
using TransferKit.FineTune.Training;
using TransferKit.Tests.Common;

namespace TransferKit.FineTune.Tests;

/// <summary>
/// One process per run folder: a second job (in this process or another) on a folder in use is refused naming the
/// holder's process id, and a lock left by a killed process does not block.
/// </summary>
public class RunFolderLockTests
{
    static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(120);

    static FineTuneOptions Options(string data, string output) => new()
    {
        Model = SharedAssets.Model("mnist-8.onnx"), Data = data, Out = output, Epochs = 2, Recipe = "head", Augment = "light", Seed = 1, Threads = 2,
    };

    static string NewRunFolder() => Path.Combine(Directory.CreateTempSubdirectory("transferkit-lock-").FullName, "run");

    static ProcessStartInfo Cli(params string[] args)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "transferkit.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    static (int Exit, string Stdout, string Stderr) RunCli(ProcessStartInfo psi)
    {
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(ProcessTimeout)) { p.Kill(); Assert.Fail($"transferkit did not finish in {ProcessTimeout}"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void ASecondJobOnAFolderInUseIsRefusedNamingTheHolder()
    {
        var data = MnistFolder.Create(10, 0, 1);
        var run = NewRunFolder();
        using (RunFolderLock.Acquire(run))
        {
            var e = Assert.Throws<IOException>(() => new FineTuneJob(Options(data, run), TextWriter.Null).Run());
            Assert.Contains($"in use by process {Environment.ProcessId}", e.Message);
            Assert.False(File.Exists(Path.Combine(run, "classes.json")));   // refused before writing anything
            Assert.Throws<IOException>(() => RunFolderLock.Acquire(run));
        }
        new FineTuneJob(Options(data, run), TextWriter.Null).Run();   // released: the folder can be used again
        Assert.True(File.Exists(Path.Combine(run, "tuned.onnx")));

        // Another process: a fresh run, a resume and a search into the folder this process holds each exit 2 naming this process.
        using (RunFolderLock.Acquire(run))
        {
            foreach (var args in new[]
                     {
                         new[] { "finetune", "--model", SharedAssets.Model("mnist-8.onnx"), "--data", data, "--out", run, "--epochs", "1" },
                         ["finetune", "--resume", run],
                         ["tune", "--model", SharedAssets.Model("mnist-8.onnx"), "--data", data, "--out", run, "--trials", "1", "--epochs", "1"],
                     })
            {
                var (exit, stdout, stderr) = RunCli(Cli(args));
                Assert.True(exit == 2, $"exit {exit}\n{stdout}\n{stderr}");
                Assert.Contains($"in use by process {Environment.ProcessId}", stderr);
                Assert.DoesNotContain("   at ", stderr);
            }
        }
    }

    [Fact]
    public void ALockLeftByAKilledProcessDoesNotBlock()
    {
        var data = MnistFolder.Create(10, 0, 1);
        var run = NewRunFolder();
        // The child kills itself (SIGKILL) once epoch 1's last.tkc is written, holding the lock.
        var psi = Cli("finetune", "--model", SharedAssets.Model("mnist-8.onnx"), "--data", data, "--out", run, "--epochs", "2", "--threads", "2");
        psi.Environment[CheckpointKillSwitch.Variable] = "last-replaced:1";
        var (exit, stdout, stderr) = RunCli(psi);
        Assert.True(exit != 0 && !stdout.Contains("epoch   1/"), $"exit {exit}\n{stdout}\n{stderr}");
        Assert.True(File.Exists(Path.Combine(run, RunFolderLock.FileName)));
        Assert.NotNull(RunFolderLock.Holder(run));
        Assert.NotEqual(Environment.ProcessId, RunFolderLock.Holder(run));

        var summary = new FineTuneJob(ResumeOptions.Load(run), TextWriter.Null).Run();
        Assert.Equal(2, summary.EpochsRun);
        Assert.Equal(Environment.ProcessId, RunFolderLock.Holder(run));
    }
}
