using TransferKit.Toolkit.Kernels;

namespace TransferKit.Toolkit.Tests.Kernels;

/// <summary>The cache sizes kernels block for: sysfs's notation read right, and sizes a machine could have.</summary>
public class CacheSizesTests
{
    [Theory]
    [InlineData("32K", 32 * 1024)]
    [InlineData("48K", 48 * 1024)]
    [InlineData("1024K", 1024 * 1024)]
    [InlineData("2M", 2 * 1024 * 1024)]
    [InlineData("65536", 65536)]
    [InlineData("", 0)]
    [InlineData("K", 0)]
    [InlineData("12Q", 0)]
    [InlineData("-4K", 0)]
    [InlineData("99999999G", 0)]
    public void ParsesSysfsSizes(string text, int bytes) => Assert.Equal(bytes, CacheSizes.ParseSize(text));

    [Fact]
    public void SizesArePlausible()
    {
        Assert.InRange(CacheSizes.L1Data, 8 * 1024, 1024 * 1024);
        Assert.InRange(CacheSizes.L2, CacheSizes.L1Data, 256 * 1024 * 1024);
        Assert.InRange(CacheSizes.L3, CacheSizes.L1Data, int.MaxValue);
        // On Linux the figures are the machine's own, not the fallbacks' by accident.
        const string l1 = "/sys/devices/system/cpu/cpu0/cache/index0/size";
        if (OperatingSystem.IsLinux() && File.Exists(l1) && File.ReadAllText("/sys/devices/system/cpu/cpu0/cache/index0/type").Trim() == "Data")
            Assert.Equal(CacheSizes.ParseSize(File.ReadAllText(l1).Trim()), CacheSizes.L1Data);
    }
}
