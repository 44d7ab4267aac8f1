using Sair.Engine.Runtime;
using Sair.Silo.Tests.Support;

namespace Sair.Silo.Tests.Hosting;

/// <summary>A real silo process on a CPU where no kernel configuration computes right (simulated): it will not serve.</summary>
public sealed class CpuKernelRefusalTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("sair-kernel-refusal-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task A_silo_whose_kernels_all_fail_the_self_check_stops_before_serving_and_says_why()
    {
        var environment = SiloEnvironment.Local(_data, $"refusal-{Guid.NewGuid():N}")
            .Set(CpuKernels.FaultVariable, "default,default-im2col,avx2,sse41,no-onednn:conv3x3.grad_weight");
        await using var silo = SiloProcess.Start(environment.Variables);

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (silo.IsRunning && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.False(silo.IsRunning, $"the silo still runs:\n{silo.Log}");
        Assert.Contains("No CPU kernel configuration computes correct numbers on this CPU", silo.Log);
        Assert.Contains("default fails conv3x3.grad_weight", silo.Log);
        Assert.Contains("stopping the silo", silo.Log);
    }
}
