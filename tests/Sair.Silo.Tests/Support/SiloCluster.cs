namespace Sair.Silo.Tests.Support;

/// <summary>Silo processes started together, each waited for until its readiness probe answers 200, stopped together.</summary>
internal sealed class SiloCluster : IAsyncDisposable
{
    private SiloCluster(IReadOnlyList<SiloProcess> silos) => Silos = silos;

    public IReadOnlyList<SiloProcess> Silos { get; }

    /// <summary>Starts every silo at once (they join in any order) and waits until all are ready.</summary>
    public static async Task<SiloCluster> StartAsync(IEnumerable<SiloEnvironment> silos, TimeSpan timeout)
    {
        var cluster = new SiloCluster([.. silos.Select(s => SiloProcess.Start(s.Variables))]);
        try
        {
            foreach (var silo in cluster.Silos)
            {
                await silo.WaitReadyAsync(timeout);
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>Every silo's output, for failure messages.</summary>
    public string Logs => string.Join("\n", Silos.Select((s, i) => $"--- silo {i} ---\n{s.Log}"));

    public Task StopAsync() => Task.WhenAll(Silos.Select(s => s.StopAsync()));

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in Silos)
        {
            await silo.DisposeAsync();
        }
    }
}
