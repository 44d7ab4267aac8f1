using System.Globalization;
using System.Runtime.InteropServices;

namespace Sair.Bench;

/// <summary>This process's memory as Linux reports it (/proc/self/status), for the benches that measure memory.</summary>
internal static class ProcessMemory
{
    /// <summary>A field of /proc/self/status in kB: "VmRSS:" (resident now), "VmHWM:" (resident at its peak).</summary>
    public static long Kilobytes(string key) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(key, StringComparison.Ordinal))[key.Length..].Trim().Split(' ')[0],
            CultureInfo.InvariantCulture);

    /// <summary>
    /// Hands the native heap's free pages back to the system (glibc's malloc_trim): what stays resident after it is
    /// memory in use (or fragments of it), so growth that survives a trim is held, not freed-and-cached. False where
    /// the C library has no malloc_trim.
    /// </summary>
    public static bool TrimNativeHeap()
    {
        try
        {
            MallocTrim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    /// <summary>A full managed collection, finalizers included, so that what stays resident is live memory.</summary>
    public static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
