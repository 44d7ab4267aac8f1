using System.Net;
using Sair.Silo.Hosting;
using Sair.Tests;

namespace Sair.Silo.Tests.Support;

/// <summary>
/// A real silo: <c>dotnet Sair.Silo.dll</c> as its own OS process, configured only through environment variables
/// (as a container would be), probed over HTTP, stopped by its pid.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly ChildProcess _process;

    private SiloProcess(ChildProcess process, int healthPort)
    {
        _process = process;
        HealthPort = healthPort;
    }

    public int HealthPort { get; }

    public string Log => _process.Log;

    public bool IsRunning => _process.IsRunning;

    /// <summary>The silo the test project built (src/Sair.Silo/bin/&lt;configuration&gt;), run with its own dependency manifest.</summary>
    public static string SiloAssembly
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            var path = Path.Combine(RepoPaths.Root, "src", "Sair.Silo", "bin", configuration, "net10.0", "Sair.Silo.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"Build the silo first (dotnet build src/Sair.Silo): {path} is missing.", path);
        }
    }

    /// <summary>Starts a silo; <paramref name="environment"/> must set <c>Sair__Health__Port</c> (a free port).</summary>
    public static SiloProcess Start(IReadOnlyDictionary<string, string> environment)
    {
        var healthPort = int.Parse(environment[$"{Env(SairHealthOptions.Section)}__{nameof(SairHealthOptions.Port)}"]);
        var process = ChildProcess.Start("dotnet", [SiloAssembly], Path.GetDirectoryName(SiloAssembly)!, environment);
        return new SiloProcess(process, healthPort);
    }

    /// <summary>The environment-variable prefix of a configuration section ("Sair:Silo" → "Sair__Silo").</summary>
    public static string Env(string section) => section.Replace(":", "__");

    /// <summary>The environment variable of one option ("Sair:Silo", "Role" → "Sair__Silo__Role").</summary>
    public static string Key(string section, string property) => $"{Env(section)}__{property}";

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path)
    {
        using var response = await Http.GetAsync($"http://127.0.0.1:{HealthPort}{path}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Waits until the readiness probe answers 200 (the silo joined its cluster).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (!_process.IsRunning)
            {
                throw new InvalidOperationException($"The silo exited before it was ready:\n{Log}");
            }

            try
            {
                var (status, body) = await GetAsync(SairHealthOptions.ReadinessPath);
                if (status == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)status} {body}";
            }
            catch (HttpRequestException exception)
            {
                last = exception.Message;
            }
            catch (TaskCanceledException exception)
            {
                last = exception.Message;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The silo was not ready within {timeout} (last probe: {last}):\n{Log}");
    }

    public Task StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(60));

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
