using System.Reflection;

namespace Ataraxia.Cli.Tests;

/// <summary>The tool ships as Ataraxia.Cli.dll (its command is `ataraxia`), beside the core assembly Ataraxia.dll.</summary>
public sealed class PackageLayoutTests
{
    [Fact]
    public void The_tool_is_its_own_assembly_and_does_not_shadow_the_core_assembly()
    {
        Assembly tool = typeof(Program).Assembly;

        // Assembly names compare case-insensitively: an assembly named "ataraxia" would be the core assembly.
        Assert.Equal("Ataraxia.Cli", tool.GetName().Name);
        Assert.Equal("Ataraxia", typeof(NodeId).Assembly.GetName().Name);
        Assert.True(File.Exists(CliProcess.ToolPath));
        Assert.True(File.Exists(Path.ChangeExtension(CliProcess.ToolPath, ".runtimeconfig.json")));
    }
}
