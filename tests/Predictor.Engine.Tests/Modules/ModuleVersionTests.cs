using Predictor.Engine.Modules.Packaging;

namespace Predictor.Engine.Tests.Modules;

public class ModuleVersionTests
{
    [Fact]
    public void CompareTo_SemVerSpecExample_OrdersStrictly()
    {
        // The precedence example of SemVer 2.0.0 section 11.
        string[] ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0", "10.0.0"];
        for (var i = 0; i < ordered.Length; i++)
        {
            for (var j = 0; j < ordered.Length; j++)
            {
                Assert.Equal(Math.Sign(i.CompareTo(j)), Math.Sign(ModuleVersion.Parse(ordered[i]).CompareTo(ModuleVersion.Parse(ordered[j]))));
            }
        }
    }

    [Theory]
    [InlineData("1.0.0+build5")]
    [InlineData("01.0.0")]
    [InlineData("1.0")]
    [InlineData("1.0.0-")]
    [InlineData("1.0.0-01")]
    [InlineData("")]
    public void TryParse_Invalid_ReturnsFalseWithReason(string text)
    {
        Assert.False(ModuleVersion.TryParse(text, out _, out var error));
        Assert.NotEmpty(error);
    }
}
