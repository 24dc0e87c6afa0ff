using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Onnx;

namespace TransferKit.Importers.Onnx;

/// <summary>
/// Reads a tensor's external data (<c>external_data</c>: location, offset, length) the way ONNX Runtime allows it and
/// no further: the location is a relative path without <c>..</c>, NUL or backslash; its real path, every symbolic
/// link followed, must lie inside the model's real folder; it must be a regular file (a FIFO or device is refused
/// without being opened for a blocking read) long enough for offset + length. Every error names the model file and
/// the tensor.
/// </summary>
static partial class ExternalData
{
    /// <summary>Symbolic links followed while resolving one path before giving up (Linux's own limit).</summary>
    const int MaxSymbolicLinks = 40;

    public static byte[] Read(TensorProto t, string modelFile, string? node, string what, long expected)
    {
        OnnxImportException Bad(string message) => new(modelFile, node, $"{what}: {message}");
        string? location = null; long offset = 0; long length = -1;
        foreach (var kv in t.ExternalData)
        {
            switch (kv.Key)
            {
                case "location": location = kv.Value; break;
                case "offset": offset = Bytes(kv.Key, kv.Value); break;
                case "length": length = Bytes(kv.Key, kv.Value); break;
            }
        }
        long Bytes(string key, string value) =>
            long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
                : throw Bad($"external data {key} '{Printable(value)}' is not a whole number of bytes from 0 to {long.MaxValue}.");

        if (string.IsNullOrEmpty(location)) throw Bad("external data without a location.");
        if (location.Contains('\0')) throw Bad($"external data location '{Printable(location)}' contains a NUL character.");
        if (Path.IsPathRooted(location) || location.StartsWith('/'))
            throw Bad($"external data path '{location}' is absolute; only paths inside the model's folder are read.");
        if (location.Contains('\\')) throw Bad($"external data path '{location}' contains a backslash; use '/' between folders.");
        if (location.Split('/').Contains(".."))
            throw Bad($"external data path '{location}' leads outside the model's folder ('..' is not allowed).");

        var folder = Path.GetDirectoryName(Path.GetFullPath(modelFile)) ?? ".";
        string realFolder, real;
        try { (realFolder, real) = (RealPath(folder), RealPath(Path.Combine(folder, location))); }
        catch (IOException e) { throw Bad($"external data path '{location}' cannot be resolved: {e.Message}"); }
        var rel = Path.GetRelativePath(realFolder, real);
        if (rel == "." || rel.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(rel))
            throw Bad($"external data path '{location}' leads outside the model's folder (through a symbolic link, to {real}).");
        if (Directory.Exists(real)) throw Bad($"external data path '{location}' is a folder, not a file.");
        if (!File.Exists(real)) throw Bad($"external data file '{location}' does not exist.");

        using var handle = OpenWithoutBlocking(real, location, Bad);
        using var fs = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        if (!fs.CanSeek) throw Bad($"external data '{location}' is not a regular file (a FIFO, socket or device); only regular files are read.");
        long size = fs.Length;
        if (length < 0) length = expected;
        if (offset > size || length > size - offset)
            throw Bad($"external data '{location}' is {size} bytes; offset {offset} + length {length} runs past its end.");
        if (length != expected)
            throw Bad($"external data length {length} does not match the {expected} bytes its shape needs.");
        var buf = new byte[length];
        fs.Seek(offset, SeekOrigin.Begin);
        fs.ReadExactly(buf);
        return buf;
    }

    /// <summary>
    /// The path with every symbolic link resolved, component by component (as realpath(3) does: a <c>..</c> after a
    /// link applies to the link's target). A path that does not exist resolves as far as it exists.
    /// </summary>
    internal static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full) ?? "/";
        var pending = new Stack<string>();
        void PushParts(string p) { foreach (var c in p.Split(Separators, StringSplitOptions.RemoveEmptyEntries).Reverse()) pending.Push(c); }
        PushParts(full[root.Length..]);
        var current = root;
        int links = 0;
        while (pending.Count > 0)
        {
            var c = pending.Pop();
            if (c == ".") continue;
            if (c == "..") { current = Path.GetDirectoryName(current) ?? current; continue; }
            var next = Path.Combine(current, c);
            string? target = null;
            try { target = new FileInfo(next).LinkTarget; }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            if (target == null) { current = next; continue; }
            if (++links > MaxSymbolicLinks) throw new IOException($"more than {MaxSymbolicLinks} symbolic links (a loop?) at {next}");
            if (Path.IsPathRooted(target)) current = Path.GetPathRoot(target) ?? root;
            PushParts(Path.IsPathRooted(target) ? target[(Path.GetPathRoot(target) ?? "").Length..] : target);
        }
        return current;
    }

    static readonly char[] Separators = OperatingSystem.IsWindows() ? ['/', '\\'] : ['/'];

    /// <summary>
    /// Opens for reading without waiting: on Linux with O_NONBLOCK, so that opening a FIFO no writer holds returns at
    /// once (and is then refused as not seekable) instead of blocking forever as a plain open does.
    /// </summary>
    static SafeFileHandle OpenWithoutBlocking(string path, string location, Func<string, OnnxImportException> bad)
    {
        if (!OperatingSystem.IsLinux()) return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        const int O_RDONLY = 0, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;   // the same on x86-64 and arm64 Linux
        int fd = Open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) throw bad($"external data file '{location}' cannot be opened (errno {Marshal.GetLastPInvokeError()}).");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    /// <summary>A value as it can be shown in one line (control characters escaped).</summary>
    static string Printable(string s) => string.Concat(s.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
