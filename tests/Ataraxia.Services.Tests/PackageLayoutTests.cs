using System.Reflection;

namespace Ataraxia.ServicesTests;

/// <summary>The package ships as its own assembly, named like the package, on top of the core package.</summary>
public sealed class PackageLayoutTests
{
    [Fact]
    public void Assembly_is_named_like_the_package_and_builds_on_the_core_package()
    {
        Assembly package = Assembly.Load("Ataraxia.Services");

        Assert.Equal("Ataraxia.Services", package.GetName().Name);
        Assert.Equal("Ataraxia", typeof(NodeId).Assembly.GetName().Name);
        Assert.Contains("Ataraxia.Services.dll", package.Location, StringComparison.Ordinal);
    }
}
