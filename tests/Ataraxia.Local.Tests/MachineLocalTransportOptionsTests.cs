namespace Ataraxia.Local.Tests;

public sealed class MachineLocalTransportOptionsTests
{
    [Fact]
    public void Default_path_is_the_network_name_in_the_temp_directory_like_the_JavaScript_library()
    {
        Assert.Equal(Path.Combine(Path.GetTempPath(), "my-net"), MachineLocalTransport.DefaultPath("my-net"));
        Assert.Null(new MachineLocalTransport().Path);
        Assert.Equal("/x/y", new MachineLocalTransport(new MachineLocalTransportOptions { Path = "/x/y" }).Path);
    }

    [Fact]
    public void Invalid_settings_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new MachineLocalTransport(new MachineLocalTransportOptions { Path = " " }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MachineLocalTransport(new MachineLocalTransportOptions { RetryInitialDelay = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MachineLocalTransport(new MachineLocalTransportOptions { RetryMaxDelay = TimeSpan.FromMilliseconds(1) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MachineLocalTransport(new MachineLocalTransportOptions { ConnectTimeout = TimeSpan.Zero }));
    }
}
