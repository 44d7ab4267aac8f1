using Sair.Engine.Runtime;

namespace Sair.Engine.Tests.Runtime;

/// <summary>
/// The CPU kernel guard. Machines whose oneDNN kernels compute wrong numbers (an AMD Zen 5 with AVX-512) are not at
/// hand, so a broken kernel is simulated by perturbing one check's result, in this process and in the guard's real
/// child-process probes.
/// </summary>
public sealed class CpuKernelsTests
{
    [Fact]
    public void The_guard_decided_before_the_tests_and_its_kernels_pass_the_battery()
    {
        // TestSupport/Torch/KernelGuard ran CpuKernels.Ensure when this assembly loaded.
        var decision = Assert.IsType<CpuKernelDecision>(CpuKernels.Current);
        Assert.Contains(decision.Configuration, CpuKernelConfiguration.All);
        Assert.Contains(CpuKernels.CpuModel(), decision.Summary);
        Assert.StartsWith($"cpu kernels: {decision.Configuration.Name} — ", decision.Summary);
        Assert.True(decision.Verified, decision.Summary);
        Assert.Same(decision, CpuKernels.Ensure(CpuKernelConfiguration.Sse41.Name));

        var battery = KernelBattery.Run();
        Assert.True(battery.Passed, battery.FirstFailure?.ToString());
        Assert.Equal(KernelBattery.CheckNames.Count, battery.Checks.Count);
        Assert.Equal(KernelBattery.CheckNames.Count, KernelBattery.CheckNames.Distinct().Count());
    }

    [Fact]
    public void Every_check_catches_a_faulty_kernel_of_its_own()
    {
        foreach (var name in KernelBattery.CheckNames)
        {
            var result = KernelBattery.Run(faultyCheck: name);
            Assert.False(result.Passed, name);
            Assert.Equal(name, result.FirstFailure!.Name);
            Assert.Single(result.Checks, c => !c.Passed);
        }
    }

    [Fact]
    public void Default_kernels_are_kept_after_one_probe_exactly_when_they_pass_on_this_CPU()
    {
        // Which branch runs depends on the CPU, and both are real: an AMD Zen 5 with AVX-512 fails the default oneDNN
        // kernels (bicubic_strided.grad_input), most CPUs pass them.
        var (configuration, reason, probes) = CpuKernels.Select(new CpuKernels.SelectionOptions());

        var first = probes[0];
        Assert.Equal(CpuKernelConfiguration.Default.Name, first.Configuration);
        if (first.Passed)
        {
            Assert.Equal(CpuKernelConfiguration.Default, configuration);
            Assert.Contains("self-check passed", reason);
            Assert.Single(probes);
            Assert.True(first.Milliseconds > 0);
        }
        else
        {
            Assert.NotEqual(CpuKernelConfiguration.Default, configuration);
            Assert.Equal(CpuKernelConfiguration.All.Select(c => c.Name), probes.Select(p => p.Configuration));
            Assert.StartsWith($"default fails {first.Failure}", reason);
            Assert.True(probes.Single(p => p.Configuration == configuration.Name).Passed);
        }
    }

    [Fact]
    public void Faulty_default_kernels_make_the_guard_pick_the_first_passing_configuration_in_order_of_speed()
    {
        var (configuration, reason, probes) = CpuKernels.Select(new CpuKernels.SelectionOptions
        {
            FaultyConfigurations = [CpuKernelConfiguration.Default.Name],
            FaultyCheck = "depthwise_rgb_blur.forward",
        });

        Assert.NotEqual(CpuKernelConfiguration.Default, configuration);
        Assert.Equal(CpuKernelConfiguration.All.Select(c => c.Name), probes.Select(p => p.Configuration));
        // The injected fault fails default; a fallback may also fail for real on this CPU (avx2 on an AMD Zen 5).
        var failed = probes[0];
        Assert.False(failed.Passed);
        Assert.StartsWith("depthwise_rgb_blur.forward", failed.Failure);
        var first = probes.First(p => p.Passed);
        Assert.Equal(first.Configuration, configuration.Name);
        Assert.Contains("default fails depthwise_rgb_blur.forward", reason);
        Assert.Contains($"{configuration.Name} is the first that passes in the order of speed on real generator steps", reason);
    }

    [Fact]
    public void The_guard_refuses_when_no_configuration_passes()
    {
        var e = Assert.Throws<CpuKernelsException>(() => CpuKernels.Select(new CpuKernels.SelectionOptions
        {
            FaultyConfigurations = CpuKernelConfiguration.All.Select(c => c.Name).ToArray(),
            FaultyCheck = "conv3x3.double_backward",
        }));

        Assert.Contains("No CPU kernel configuration computes correct numbers", e.Message);
        // Each configuration fails the injected check, or an earlier check it really fails on this CPU (Zen 5: default).
        foreach (var configuration in CpuKernelConfiguration.All)
        {
            Assert.Contains($"{configuration.Name} fails ", e.Message);
        }

        Assert.Contains("fails conv3x3.double_backward", e.Message);

        Assert.Contains(CpuKernels.SettingKey, e.Message);
    }

    [Fact]
    public async Task A_process_whose_default_kernels_fail_decides_on_a_fallback_and_verifies_it_before_serving()
    {
        var (exit, log) = await DecideInNewProcessAsync(new()
        {
            [CpuKernels.FaultVariable] = "default:depthwise_rgb_blur.forward",
        });

        Assert.Equal(0, exit);
        Assert.Matches("cpu kernels: (default-im2col|avx2|sse41|no-onednn) — default fails depthwise_rgb_blur.forward: relative error", log);
        Assert.Contains("is the first that passes in the order of speed", log);
        Assert.Contains($"verified in this process ({KernelBattery.CheckNames.Count} checks)", log);
    }

    [Fact]
    public async Task A_process_where_no_kernels_pass_refuses_with_the_reason()
    {
        var (exit, log) = await DecideInNewProcessAsync(new()
        {
            [CpuKernels.FaultVariable] = "default,default-im2col,avx2,sse41,no-onednn:matmul.forward",
        });

        Assert.Equal(1, exit);
        Assert.Contains("error: No CPU kernel configuration computes correct numbers on this CPU", log);
        Assert.DoesNotContain("   at ", log);
    }

    [Fact]
    public async Task An_operator_can_force_a_configuration()
    {
        var (exit, log) = await DecideInNewProcessAsync(new() { [CpuKernels.EnvironmentVariable] = "sse41" });

        Assert.Equal(0, exit);
        Assert.Contains("cpu kernels: sse41 — forced by Sair:Engine:CpuKernels", log);
    }

    /// <summary>Runs the probe executable's --decide, as CI does, with a cache of its own.</summary>
    private static async Task<(int? Exit, string Log)> DecideInNewProcessAsync(Dictionary<string, string> environment)
    {
        var cache = Directory.CreateTempSubdirectory("sair-kernels-").FullName;
        try
        {
            environment[CpuKernels.CacheVariable] = cache;
            environment.TryAdd(CpuKernels.EnvironmentVariable, CpuKernels.Auto);
            environment.TryAdd(CpuKernels.FaultVariable, "");
            await using var process = ChildProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "Sair.KernelCheck.dll"), "--decide"],
                AppContext.BaseDirectory, environment);
            return (await process.WaitForExitAsync(TimeSpan.FromMinutes(3)), process.Log);
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact]
    public void Configurations_are_named_as_operators_write_them()
    {
        Assert.Equal(CpuKernelConfiguration.Avx2, CpuKernelConfiguration.Parse(" AVX2 "));
        Assert.Equal(CpuKernelConfiguration.NoOneDnn, CpuKernelConfiguration.Parse("no-onednn"));
        var e = Assert.Throws<ArgumentException>(() => CpuKernelConfiguration.Parse("avx512"));
        Assert.Contains("auto", e.Message);
        Assert.Contains("sse41", e.Message);
        Assert.Throws<ArgumentException>(() => KernelBattery.Run(faultyCheck: "no-such-check"));
    }
}
