using System.Runtime.InteropServices;

namespace Sair.Engine.Runtime;

/// <summary>
/// The few libtorch and libc settings TorchSharp does not expose: the native environment (read by oneDNN once, when it
/// first runs) and ATen's global context switches for oneDNN and NNPACK (read at every convolution).
/// </summary>
internal static unsafe partial class NativeTorchSettings
{
    /// <summary>
    /// Sets a variable in the native environment that libtorch's getenv reads. .NET's
    /// Environment.SetEnvironmentVariable only changes the managed copy on Linux.
    /// </summary>
    public static void SetNativeEnvironment(string name, string? value)
    {
        Environment.SetEnvironmentVariable(name, value);
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var rc = value is null ? unsetenv(name) : setenv(name, value, 1);
        if (rc != 0)
        {
            throw new InvalidOperationException($"Could not set {name} in the native environment (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    /// <summary>Turns libtorch's use of oneDNN (mkldnn) on or off for every later operation; returns the setting now in force.</summary>
    public static bool SetOneDnnEnabled(bool enabled)
    {
        var context = Context();
        ((delegate* unmanaged<IntPtr, byte, void>)Export("_ZN2at7Context20setUserEnabledMkldnnEb"))(context, enabled ? (byte)1 : (byte)0);
        return ((delegate* unmanaged<IntPtr, byte>)Export("_ZNK2at7Context17userEnabledMkldnnEv"))(context) != 0;
    }

    /// <summary>Turns libtorch's use of NNPACK on or off for every later convolution.</summary>
    public static void SetNnpackEnabled(bool enabled) =>
        ((delegate* unmanaged<IntPtr, byte, void>)Export("_ZN2at7Context20setUserEnabledNNPACKEb"))(Context(), enabled ? (byte)1 : (byte)0);

    /// <summary>
    /// Whether NNPACK initialised on this CPU. Where it cannot, libtorch logs one warning for this call — and would log
    /// it again at every convolution that asks, which is why the caller turns NNPACK off when this says no.
    /// </summary>
    public static bool NnpackAvailable() => ((delegate* unmanaged<byte>)Export("_ZN2at6native17_nnpack_availableEv"))() != 0;

    private static IntPtr Context() => ((delegate* unmanaged<IntPtr>)Export("_ZN2at13globalContextEv"))();

    private static IntPtr Export(string symbol)
    {
        if (!NativeLibrary.TryGetExport(TorchCpu.Value, symbol, out var address))
        {
            throw new InvalidOperationException($"libtorch_cpu does not export {symbol}: this libtorch build is not the one SairGrid was built against.");
        }

        return address;
    }

    private static readonly Lazy<IntPtr> TorchCpu = new(() =>
    {
        // TorchSharp has loaded libtorch_cpu by now; asking for it by name returns the same handle.
        foreach (var candidate in new[]
                 {
                     "libtorch_cpu.so",
                     Path.Combine(AppContext.BaseDirectory, "libtorch_cpu.so"),
                     Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libtorch_cpu.so"),
                 })
        {
            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                return handle;
            }
        }

        throw new InvalidOperationException("libtorch_cpu.so could not be found beside the application; build or publish it with the engine.");
    });

    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc.so.6", EntryPoint = "unsetenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int unsetenv(string name);
}
