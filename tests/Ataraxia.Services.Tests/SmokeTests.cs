using Ataraxia.Testing;

namespace Ataraxia.ServicesTests;

public sealed class SmokeTests
{
    [Fact]
    public async Task A_call_through_a_router_reaches_the_provider()
    {
        await using ServiceMesh mesh = await ServiceMesh.CreateAsync(3);
        using ServiceRegistration registration = mesh[2].Register<ICalculator>("calc", new Calculator());
        ServiceReference calc = mesh[0].Get("calc");
        await calc.WaitUntilAvailableAsync().DefaultTimeout();

        Assert.Equal(5, await calc.CallAsync<int>("add", 2, 3).DefaultTimeout());
        Assert.Equal(7, await calc.As<ICalculator>().AddAsync(3, 4).DefaultTimeout());
    }
}
