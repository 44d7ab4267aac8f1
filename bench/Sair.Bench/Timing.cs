using System.Diagnostics;

namespace Sair.Bench;

/// <summary>Median wall time of several runs after one warm-up run.</summary>
internal static class Timing
{
    public static double MedianSeconds(int runs, Action step)
    {
        step();
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            step();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
    }
}
