using TorchSharp;

namespace Sair.Engine.Runtime;

/// <summary>
/// Loads libtorch once, through the CPU kernel guard (<see cref="CpuKernels"/>), with an error that says what to do when
/// it cannot.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lazy<string> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<bool> Native = new(LoadLibtorch, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Makes sure the CPU kernels are decided (<see cref="CpuKernels.Ensure"/> with Sair__Engine__CpuKernels, unless a
    /// host decided earlier) and libtorch is loaded; returns a one-line description of the runtime.
    /// </summary>
    public static string EnsureLoaded() => Loaded.Value;

    /// <summary>The device to use for a name such as "cpu", "cuda", "cuda:1" or "auto" (CUDA when available).</summary>
    public static torch.Device ResolveDevice(string? name)
    {
        EnsureLoaded();
        if (string.IsNullOrWhiteSpace(name) || name.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        }
        if (name.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) && !torch.cuda.is_available())
        {
            throw new InvalidOperationException(
                $"Device '{name}' was asked for but CUDA is not available: this build carries the CPU libtorch " +
                "(build with -p:SairTorchRuntime=cuda on a machine with the CUDA runtime package) or the GPU is not visible.");
        }
        return new torch.Device(name);
    }

    /// <summary>Loads libtorch without deciding the kernels: only for the guard, which sets what must precede loading.</summary>
    internal static void LoadNative() => _ = Native.Value;

    private static string Load()
    {
        var kernels = CpuKernels.Ensure();
        var cuda = torch.cuda.is_available() ? $", CUDA devices: {torch.cuda.device_count()}" : "";
        return $"libtorch {torch.__version__}, threads {torch.get_num_threads()}{cuda}, {kernels.Configuration.Name} CPU kernels";
    }

    private static bool LoadLibtorch()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            return true;
        }
        catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException)
        {
            throw new InvalidOperationException(
                "libtorch could not be loaded. Build with 'dotnet build' (the build applies the GLIBCXX fix to " +
                "libLibTorchSharp.so; see README, 'TorchSharp on Debian 12') and run from the build output. " +
                $"Cause: {e.Message}", e);
        }
    }
}
