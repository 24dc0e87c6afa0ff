using System.Globalization;

namespace TransferKit.FineTune.Checkpoints;

/// <summary>
/// Exclusive use of a run folder by one process: <c>RUN_DIR/.lock</c> held open with <see cref="FileShare.None"/>,
/// which .NET backs with an operating-system lock (<c>flock</c> on Unix, a sharing mode on Windows) that ends when the
/// process does, however it ends — a lock left by a killed process never blocks. The holder's process id is written
/// to <c>RUN_DIR/.lock.pid</c> so that a refused process can name it (the locked file itself cannot be read).
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    public const string FileName = ".lock";
    public const string HolderFileName = ".lock.pid";

    readonly FileStream _file;

    RunFolderLock(FileStream file) => _file = file;

    /// <summary>The folder this lock is held on.</summary>
    public required string Folder { get; init; }

    /// <summary>
    /// Takes the lock on <paramref name="runDir"/> (created when missing); an <see cref="IOException"/> naming the
    /// holder's process id when another process (or another job in this one) holds it.
    /// </summary>
    public static RunFolderLock Acquire(string runDir)
    {
        Directory.CreateDirectory(runDir);
        var path = Path.Combine(runDir, FileName);
        FileStream file;
        try { file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException) when (File.Exists(path))
        {
            var holder = Holder(runDir);
            throw new IOException($"The run folder {runDir} is in use by {(holder is { } pid ? $"process {pid}" : "another process")} "
                                  + $"({path} is locked); wait for it to end, or use another --out folder.");
        }
        var holderPath = Path.Combine(runDir, HolderFileName);
        File.WriteAllText(holderPath, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        return new RunFolderLock(file) { Folder = runDir };
    }

    /// <summary>The process id the last holder of the folder's lock wrote, or null when there is none.</summary>
    public static int? Holder(string runDir)
    {
        try
        {
            return int.TryParse(File.ReadAllText(Path.Combine(runDir, HolderFileName)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                ? pid : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Releases the lock (the files stay; only the operating-system lock counts).</summary>
    public void Dispose() => _file.Dispose();
}
