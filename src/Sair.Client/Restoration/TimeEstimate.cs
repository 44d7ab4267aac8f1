using System.Globalization;
using Sair.Client.Grid;
using Sair.Grains.Placement;
using Spectre.Console;

namespace Sair.Client.Restoration;

/// <summary>
/// Before a run: how long a face will take, from the seconds per iteration the grid's engine silos measured on their
/// loaded generators (<see cref="EngineLoad.SecondsPerIteration"/>), and how many faces they run at once.
/// </summary>
public static class TimeEstimate
{
    /// <summary>The line to print, or null when the grid reports no engine.</summary>
    public static string? Describe(IReadOnlyList<EngineLoad> loads, int iterations, bool identity)
    {
        if (loads.Count == 0)
        {
            return null;
        }

        var measured = loads.Select(l => identity ? l.SecondsPerIteration : l.SecondsPerIterationWithoutIdentity).OfType<double>().ToList();
        var slots = loads.Sum(l => l.Capacity);
        var kind = identity ? "with the identity term" : "without identity";
        if (measured.Count == 0)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"Time per face: not measured yet on this grid's {loads.Count} engine silo(s) ({kind}); the first faces measure it. " +
                $"{slots} face(s) run at once.");
        }

        var perIteration = measured.Average();
        var perFace = perIteration * iterations;
        return string.Create(CultureInfo.InvariantCulture,
            $"Time per face: about {Seconds(perFace)} ({iterations} iterations × {perIteration:0.000} s measured {kind} on the engine silos' loaded generator; " +
            $"a reference's first use adds its inversion). {slots} face(s) run at once.");
    }

    /// <summary>Asks the load board and prints the estimate (grey); says nothing when the board cannot be read.</summary>
    public static async Task PrintAsync(IAnsiConsole console, IGridConnection grid, int iterations, bool identity)
    {
        try
        {
            var loads = await grid.Grains.GetGrain<IEngineLoadBoardGrain>(0).GetLoadsAsync();
            if (Describe(loads, iterations, identity) is { } line)
            {
                console.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
            }
        }
        catch (Exception exception) when (exception is TimeoutException or OrleansException)
        {
            // An estimate is a courtesy: never a reason to stop a run.
        }
    }

    private static string Seconds(double seconds) => seconds < 90
        ? string.Create(CultureInfo.InvariantCulture, $"{seconds:0} s")
        : seconds < 5400
            ? string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:0.#} min")
            : string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:0.#} h");
}
