using System.Net;
using Sair.Grains;

namespace Sair.Testing;

/// <summary>
/// A real silo: <c>dotnet Sair.Silo.dll</c> as its own OS process (as a container runs it), configured only through
/// environment variables, probed over its health port and stopped by its own pid. The tests and the bench both start
/// silos with it.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly ChildProcess _process;

    private SiloProcess(ChildProcess process, string name, int healthPort)
    {
        _process = process;
        Name = name;
        HealthPort = healthPort;
    }

    /// <summary>What messages call this silo ("coordinator", "engine 2").</summary>
    public string Name { get; }

    public int HealthPort { get; }

    /// <summary>The silo's output so far, for failure messages.</summary>
    public string Log => _process.Log;

    public bool IsRunning => _process.IsRunning;

    /// <summary>The silo built beside the caller (src/Sair.Silo/bin/&lt;configuration&gt;), run with its own dependency manifest.</summary>
    public static string SiloAssembly
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            var path = Path.Combine(RepoPaths.Root, "src", "Sair.Silo", "bin", configuration, "net10.0", "Sair.Silo.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"Build the silo first (dotnet build -c {configuration} src/Sair.Silo): {path} is missing.", path);
        }
    }

    /// <summary>The environment variable of one option ("Sair:Silo", "Role" → "Sair__Silo__Role").</summary>
    public static string Key(string section, string property) => SettingKeys.EnvironmentVariable($"{section}:{property}");

    /// <summary>Starts a silo; <paramref name="environment"/> must set its health port (<see cref="SettingKeys.HealthPort"/>, a free port).</summary>
    public static SiloProcess Start(IReadOnlyDictionary<string, string> environment, string name = "silo")
    {
        ArgumentNullException.ThrowIfNull(environment);
        var healthPort = int.Parse(environment[SettingKeys.EnvironmentVariable(SettingKeys.HealthPort)], System.Globalization.CultureInfo.InvariantCulture);
        var assembly = SiloAssembly;
        return new SiloProcess(ChildProcess.Start("dotnet", [assembly], Path.GetDirectoryName(assembly)!, environment), name, healthPort);
    }

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path)
    {
        using var response = await Http.GetAsync($"http://127.0.0.1:{HealthPort}{path}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The silo's Prometheus scrape (its health port's metrics endpoint).</summary>
    public async Task<string> ScrapeAsync() => (await GetAsync(HealthEndpoints.Metrics)).Body;

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
                var (status, body) = await GetAsync(HealthEndpoints.Readiness);
                if (status == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)status} {body}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Silo {Name} was not ready within {timeout} (last probe: {last}):\n{Log}");
    }

    /// <summary>Asks the silo to shut down (SIGTERM to its pid) and kills it when it does not stop within <paramref name="patience"/> (60 s).</summary>
    public Task StopAsync(TimeSpan? patience = null) => _process.StopAsync(patience ?? TimeSpan.FromSeconds(60));

    /// <summary>Kills the silo at once (SIGKILL), as when its node dies.</summary>
    public Task KillAsync() => _process.KillAsync();

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
