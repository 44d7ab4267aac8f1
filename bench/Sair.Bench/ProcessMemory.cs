using System.Globalization;

namespace Sair.Bench;

/// <summary>This process's memory as Linux reports it (/proc/self/status), for the benches that measure memory.</summary>
internal static class ProcessMemory
{
    /// <summary>A field of /proc/self/status in kB: "VmRSS:" (resident now), "VmHWM:" (resident at its peak).</summary>
    public static long Kilobytes(string key) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(key, StringComparison.Ordinal))[key.Length..].Trim().Split(' ')[0],
            CultureInfo.InvariantCulture);

    /// <summary>A full managed collection, finalizers included, so that what stays resident is live memory.</summary>
    public static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
