namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// The data cache sizes of the machine, read once from Linux's sysfs (cpu0's cache indices: level and type "Data" or
/// "Unified"), for kernels that size their blocks from them rather than from one machine's constants; where sysfs
/// gives nothing (another OS, a container hiding it), the smaller of the sizes this project's machines have.
/// </summary>
public static class CacheSizes
{
    /// <summary>Fallback L1 data cache per core: 32 KiB (AMD Zen 4; Zen 5 and recent Xeons have 48 KiB).</summary>
    public const int DefaultL1Data = 32 * 1024;
    /// <summary>Fallback L2 per core: 1 MiB (AMD EPYC; the Xeons have 2 MiB).</summary>
    public const int DefaultL2 = 1024 * 1024;
    /// <summary>Fallback last-level (L3) cache, shared by the cores: 16 MiB.</summary>
    public const int DefaultL3 = 16 * 1024 * 1024;

    static readonly (int L1, int L2, int L3) Sizes = Read();

    /// <summary>L1 data cache of one core, in bytes.</summary>
    public static int L1Data => Sizes.L1;

    /// <summary>L2 cache of one core, in bytes.</summary>
    public static int L2 => Sizes.L2;

    /// <summary>L3 cache as this machine reports it (shared by the cores that see it), in bytes.</summary>
    public static int L3 => Sizes.L3;

    static (int, int, int) Read()
    {
        int l1 = 0, l2 = 0, l3 = 0;
        try
        {
            const string root = "/sys/devices/system/cpu/cpu0/cache";
            if (Directory.Exists(root))
                foreach (var dir in Directory.EnumerateDirectories(root, "index*"))
                {
                    string Field(string name) => File.ReadAllText(Path.Combine(dir, name)).Trim();
                    if (!int.TryParse(Field("level"), out int level)) continue;
                    string type = Field("type");
                    if (type is not ("Data" or "Unified")) continue;
                    int bytes = ParseSize(Field("size"));
                    if (level == 1) l1 = bytes;
                    else if (level == 2) l2 = bytes;
                    else if (level == 3) l3 = bytes;
                }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return (l1 > 0 ? l1 : DefaultL1Data, l2 > 0 ? l2 : DefaultL2, l3 > 0 ? l3 : DefaultL3);
    }

    /// <summary>"32K", "1024K", "2M" or a plain byte count; 0 when unreadable.</summary>
    internal static int ParseSize(string text)
    {
        if (text.Length == 0) return 0;
        long scale = char.ToUpperInvariant(text[^1]) switch { 'K' => 1024, 'M' => 1024 * 1024, 'G' => 1024L * 1024 * 1024, _ => 1 };
        var digits = scale == 1 ? text : text[..^1];
        return long.TryParse(digits, out long v) && v > 0 && v * scale <= int.MaxValue ? (int)(v * scale) : 0;
    }
}
