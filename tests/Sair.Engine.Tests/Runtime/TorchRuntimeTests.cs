using Sair.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.Runtime;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void Libtorch_loads_and_computes_real_tensor_ops()
    {
        var info = TorchRuntime.EnsureLoaded();
        Assert.Contains("libtorch", info);

        using var a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = tensor(new float[] { 5, 6, 7, 8 }).reshape(2, 2);
        using var c = matmul(a, b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());

        // A convolution and autograd through it: the native kernels, not just the managed wrapper, run.
        using var x = ones(1, 1, 3, 3, requires_grad: true);
        using var w = full(new long[] { 1, 1, 3, 3 }, 2f);
        using var y = nn.functional.conv2d(x, w).sum();
        y.backward();
        Assert.Equal(18f, y.item<float>());
        Assert.All(x.grad!.data<float>().ToArray(), g => Assert.Equal(2f, g));
    }

    [Fact]
    public void Cpu_device_resolves_and_cuda_is_refused_clearly_without_it()
    {
        Assert.Equal(DeviceType.CPU, TorchRuntime.ResolveDevice("cpu").type);
        if (!cuda.is_available())
        {
            var e = Assert.Throws<InvalidOperationException>(() => TorchRuntime.ResolveDevice("cuda"));
            Assert.Contains("SairTorchRuntime=cuda", e.Message);
            Assert.Equal(DeviceType.CPU, TorchRuntime.ResolveDevice("auto").type);
        }
    }
}
