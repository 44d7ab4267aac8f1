using System.Net;
using System.Net.Sockets;
using Sair.Silo.Hosting;
using Sair.Tests;

namespace Sair.Bench;

/// <summary>
/// A silo of the grid as its own OS process (<c>dotnet Sair.Silo.dll</c>, as the tests and a container run it),
/// configured only through environment variables, probed over its health port and stopped by its own pid.
/// </summary>
internal sealed class SiloLauncher : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly ChildProcess _process;

    private SiloLauncher(ChildProcess process, string name, int healthPort)
    {
        _process = process;
        Name = name;
        HealthPort = healthPort;
    }

    public string Name { get; }

    public int HealthPort { get; }

    /// <summary>The silo's output so far, for failure messages.</summary>
    public string Log => _process.Log;

    /// <summary>The silo built next to this bench (src/Sair.Silo/bin/&lt;configuration&gt;), run with its own dependency manifest.</summary>
    public static string SiloAssembly
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            var path = Path.Combine(RepoPaths.Root, "src", "Sair.Silo", "bin", configuration, "net10.0", "Sair.Silo.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"Build the silo first (dotnet build -c {configuration} src/Sair.Silo): {path} is missing.", path);
        }
    }

    /// <summary>A TCP port free on 127.0.0.1 right now, for the next silo's silo, gateway or health port.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The environment-variable name of an option ("Sair:Silo", "Role" → "Sair__Silo__Role").</summary>
    public static string Env(string section, string property) => $"{section.Replace(":", "__")}__{property}";

    /// <summary>Starts a silo; <paramref name="environment"/> must set its health port to <paramref name="healthPort"/>.</summary>
    public static SiloLauncher Start(string name, IReadOnlyDictionary<string, string> environment, int healthPort)
    {
        var assembly = SiloAssembly;
        return new SiloLauncher(ChildProcess.Start("dotnet", [assembly], Path.GetDirectoryName(assembly)!, environment), name, healthPort);
    }

    /// <summary>Waits until the readiness probe answers 200: the silo joined its cluster and, on an engine, loaded its generator.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (!_process.IsRunning)
            {
                throw new InvalidOperationException($"Silo {Name} exited before it was ready:\n{Log}");
            }

            try
            {
                using var response = await Http.GetAsync($"http://127.0.0.1:{HealthPort}{SairHealthOptions.ReadinessPath}");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Silo {Name} was not ready within {timeout} (last probe: {last}):\n{Log}");
    }

    /// <summary>The silo's Prometheus scrape (its health port's metrics endpoint).</summary>
    public async Task<string> ScrapeAsync() =>
        await Http.GetStringAsync($"http://127.0.0.1:{HealthPort}{SairHealthOptions.MetricsPath}");

    /// <summary>Asks the silo to shut down (SIGTERM to its pid) and kills it when it does not stop within <paramref name="patience"/>.</summary>
    public Task StopAsync(TimeSpan patience) => _process.StopAsync(patience);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
