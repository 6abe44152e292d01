using System.Reflection;

namespace Ataraxia.Local.Tests;

/// <summary>The package ships as its own assembly, named like the package, on top of the core package.</summary>
public sealed class PackageLayoutTests
{
    [Fact]
    public void Assembly_is_named_like_the_package_and_builds_on_the_core_package()
    {
        Assembly package = Assembly.Load("Ataraxia.Local");

        Assert.Equal("Ataraxia.Local", package.GetName().Name);
        Assert.Equal("Ataraxia", typeof(NodeId).Assembly.GetName().Name);
        Assert.Contains("Ataraxia.Local.dll", package.Location, StringComparison.Ordinal);
    }
}
