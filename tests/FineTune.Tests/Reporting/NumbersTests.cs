using TransferKit.FineTune.Reporting;

namespace TransferKit.FineTune.Tests.Reporting;

public class NumbersTests
{
    [Theory]
    [InlineData(3.73e-5, 3, "0.0000373")]
    [InlineData(0.00011, 3, "0.00011")]
    [InlineData(0.001, 3, "0.001")]
    [InlineData(0.00197, 3, "0.00197")]
    [InlineData(1.2345, 3, "1.23")]
    [InlineData(-1.2e-3, 3, "-0.0012")]
    [InlineData(5.72e-6, 3, "0.00000572")]
    [InlineData(12345.6, 3, "12346")]
    [InlineData(0.0, 3, "0")]
    [InlineData(1e-12, 3, "0")]
    [InlineData(-1e-12, 3, "0")]
    [InlineData(0.99999, 3, "1")]
    [InlineData(2.5e-4, 4, "0.00025")]
    public void FixedNotationWithSignificantDigits(double value, int significant, string expected) =>
        Assert.Equal(expected, Numbers.Fixed(value, significant));

    [Fact]
    public void NonFiniteValuesStayReadable()
    {
        Assert.Equal("NaN", Numbers.Fixed(double.NaN));
        Assert.Equal("Infinity", Numbers.Fixed(double.PositiveInfinity));
    }
}
