using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Sair.Grains;
using Sair.Grains.Albums;
using Sair.Grains.Ports;
using Sair.Grains.Jobs;
using Sair.Grains.Placement;
using Sair.Grains.Storage;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Sair.Testing;

/// <summary>
/// Issue 18's soak: one album restored on a grid of silo processes on Azure Storage (Azurite on disk) while engine
/// silos are killed (SIGKILL) and started again at random moments (seeded) and Azurite itself is stopped and started
/// again once, part-way (an outage: what it acknowledged stays). Counts what a user would count: photos completed, lost (failed, or completed without its
/// result in storage), duplicated (a face whose result more than one run wrote, from the engines' logs) and stuck (not
/// finished by the deadline). The bench runs it long (<c>bench soak</c>); a test runs a short form.
/// </summary>
public static partial class Soak
{
    /// <param name="Photos">Album size.</param>
    /// <param name="Engines">Engine silo processes beside the coordinator (which is never killed: it holds the gateway).</param>
    /// <param name="Iterations">Restoration iterations per face (a checkpoint every 2).</param>
    /// <param name="KillEvery">Mean time between engine kills (each drawn from 0.5–1.5 × this).</param>
    /// <param name="DownFor">How long a killed engine stays down before a new process takes its place.</param>
    /// <param name="StorageDownFor">How long Azurite is down, once, when a third of the album has completed.</param>
    /// <param name="Generator">The generator file every engine loads (the tiny fixture).</param>
    public sealed record Settings(int Photos, int Engines, int Iterations, TimeSpan KillEvery, TimeSpan DownFor, TimeSpan StorageDownFor,
        int Seed, TimeSpan Timeout, string Generator);

    public sealed record Outcome(Settings Settings, int Completed, int Lost, int Duplicated, int Stuck, int Kills, int Restarts,
        int StorageOutages, TimeSpan Duration, IReadOnlyList<string> Problems)
    {
        public bool Clean => Completed == Settings.Photos && Lost == 0 && Duplicated == 0 && Stuck == 0;
    }

    private const string ClusterId = "soak";

    public static async Task<Outcome> RunAsync(Settings settings, Action<string> say)
    {
        ArgumentNullException.ThrowIfNull(settings);
        await using var azurite = await AzuriteProcess.StartAsync(onDisk: true);
        var serviceId = $"soak-{Guid.NewGuid():N}";
        var coordinator = Environment(settings, azurite.ConnectionString, serviceId, SiloMetadataKeys.CoordinatorRole);
        var processes = new List<SiloProcess> { SiloProcess.Start(coordinator, "coordinator") };
        var engines = new SiloProcess?[settings.Engines];
        var everyEngine = new List<SiloProcess>();
        try
        {
            for (var i = 0; i < settings.Engines; i++)
            {
                engines[i] = SiloProcess.Start(Environment(settings, azurite.ConnectionString, serviceId, SiloMetadataKeys.EngineRole), $"engine {i + 1}");
                everyEngine.Add(engines[i]!);
            }

            foreach (var silo in processes.Concat(everyEngine))
            {
                await silo.WaitReadyAsync(TimeSpan.FromMinutes(3));
            }

            using var client = await ConnectAsync(int.Parse(coordinator[SettingKeys.EnvironmentVariable(SettingKeys.GatewayPort)], CultureInfo.InvariantCulture), serviceId);
            var grains = client.Services.GetRequiredService<IClusterClient>();
            var (reference, photos) = await UploadAlbumAsync(grains, settings.Photos);
            var album = grains.GetGrain<IAlbumGrain>("soak");
            var options = new RestorationOptions("paper", settings.Iterations, Emotion: null, EmotionStrength: 0, Seed: 1, CheckpointEvery: 2);
            var clock = Stopwatch.StartNew();
            await album.SubmitAsync(new AlbumSpec(photos, ReferenceSelection.FromPaths(reference), options, "albums/soak/results", FaceFraming.DlibChip));
            say($"soak: album of {settings.Photos} submitted to a coordinator and {settings.Engines} engine silo processes on Azurite");

            var random = new Random(settings.Seed);
            TimeSpan Draw(TimeSpan mean) => mean * (0.5 + random.NextDouble());
            var nextKill = clock.Elapsed + Draw(settings.KillEvery);
            var restarts = new List<(int Engine, TimeSpan At)>();
            int kills = 0, restarted = 0, outages = 0;
            AlbumProgress? progress = null;
            var unanswered = 0;
            while (clock.Elapsed < settings.Timeout)
            {
                try
                {
                    progress = await album.GetProgressAsync();
                    if (unanswered > 0)
                    {
                        say($"soak: {clock.Elapsed.TotalSeconds:0} s — progress answered again after {unanswered} unanswered asks");
                        unanswered = 0;
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    if (unanswered++ == 0)
                    {
                        say($"soak: {clock.Elapsed.TotalSeconds:0} s — progress not available ({exception.GetType().Name}); asking again");
                    }
                }

                if (progress is { IsFinished: true })
                {
                    break;
                }

                if (outages == 0 && progress is { } p && p.Completed * 3 >= settings.Photos)
                {
                    say($"soak: {p.Completed}/{settings.Photos} done — Azurite down for {settings.StorageDownFor.TotalSeconds:0} s");
                    await azurite.StopAsync();
                    await Task.Delay(settings.StorageDownFor);
                    await azurite.StartAgainAsync();
                    outages++;
                }

                if (clock.Elapsed >= nextKill)
                {
                    var alive = Enumerable.Range(0, settings.Engines).Where(i => engines[i] is not null).ToList();
                    if (alive.Count > 0)
                    {
                        var victim = alive[random.Next(alive.Count)];
                        say($"soak: {clock.Elapsed.TotalSeconds:0} s — SIGKILL {engines[victim]!.Name} ({progress?.Completed}/{settings.Photos} done)");
                        await engines[victim]!.KillAsync();
                        engines[victim] = null;
                        kills++;
                        restarts.Add((victim, clock.Elapsed + settings.DownFor));
                    }

                    nextKill = clock.Elapsed + Draw(settings.KillEvery);
                }

                foreach (var due in restarts.Where(r => r.At <= clock.Elapsed).ToList())
                {
                    restarts.Remove(due);
                    var fresh = SiloProcess.Start(Environment(settings, azurite.ConnectionString, serviceId, SiloMetadataKeys.EngineRole),
                        $"engine {due.Engine + 1} (restart {++restarted})");
                    engines[due.Engine] = fresh;
                    everyEngine.Add(fresh);
                }

                await Task.Delay(250);
            }

            var duration = clock.Elapsed;
            var results = await album.ListResultsAsync();
            var transfer = grains.GetGrain<IImageTransferGrain>(0);
            var problems = new List<string>();
            int lost = 0, completed = 0;
            foreach (var photo in results.Where(r => r.State.IsFinished()))
            {
                if (photo.State != JobState.Completed)
                {
                    lost++;
                    problems.Add($"face {photo.Index}: {photo.State} — {photo.Error}");
                }
                else if (photo.ResultPath is not { } path || !await transfer.ExistsAsync(path))
                {
                    lost++;
                    problems.Add($"face {photo.Index}: completed, but its result {photo.ResultPath} is not in storage");
                }
                else
                {
                    completed++;
                }
            }

            var writes = everyEngine.SelectMany(e => ResultWritten().Matches(e.Log).Select(m => (Job: m.Groups["job"].Value, Run: $"attempt {m.Groups["attempt"].Value} on {e.Name}")))
                .GroupBy(w => w.Job, StringComparer.Ordinal).Where(g => g.Count() > 1).ToList();
            problems.AddRange(writes.Select(g => $"job {g.Key}: its result was written by {g.Count()} runs ({string.Join(", ", g.Select(w => w.Run))})"));
            var stuck = results.Count(r => !r.State.IsFinished());
            return new Outcome(settings, completed, lost, writes.Count, stuck, kills, restarted, outages, duration, problems);
        }
        catch
        {
            foreach (var silo in processes.Concat(everyEngine))
            {
                say($"--- {silo.Name} ---\n{silo.Log}");
            }

            throw;
        }
        finally
        {
            foreach (var silo in processes.Concat(everyEngine))
            {
                await silo.DisposeAsync();
            }
        }
    }

    /// <summary>The outcome as a row of docs/reliability.md's soak table.</summary>
    public static string Row(Outcome outcome)
    {
        var s = outcome.Settings;
        return string.Create(CultureInfo.InvariantCulture,
            $"| {s.Photos} | 1 + {s.Engines} | {s.Iterations} | {outcome.Kills} / {outcome.Restarts} | {outcome.StorageOutages} × {s.StorageDownFor.TotalSeconds:0} s | " +
            $"{outcome.Duration.TotalSeconds:0} s | {outcome.Completed} | {outcome.Lost} | {outcome.Duplicated} | {outcome.Stuck} | {s.Seed} |");
    }

    public const string Header =
        "| photos | silos (coordinator + engines) | iterations | engine kills / restarts | Azurite outages | duration | completed | lost | duplicated | stuck | seed |\n" +
        "|---|---|---|---|---|---|---|---|---|---|---|";

    private static Dictionary<string, string> Environment(Settings settings, string connection, string serviceId, string role)
    {
        string Key(string section, string property) => SettingKeys.EnvironmentVariable($"{section}:{property}");
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SettingKeys.EnvironmentVariable(SettingKeys.SiloRole)] = role,
            [SettingKeys.EnvironmentVariable(SettingKeys.SiloPort)] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            [SettingKeys.EnvironmentVariable(SettingKeys.GatewayPort)] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            [SettingKeys.EnvironmentVariable(SettingKeys.HealthPort)] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            [Key(SettingKeys.Silo, "ServiceId")] = serviceId,
            [Key(SettingKeys.Silo, "ClusterId")] = ClusterId,
            [Key(SettingKeys.Silo, "AdvertisedIp")] = "127.0.0.1",
            [Key(SettingKeys.Silo, "KubernetesHosting")] = "false",
            [Key(SettingKeys.Storage, "Provider")] = "azure",
            [Key(SettingKeys.Storage, "ConnectionString")] = connection,
            [Key(SettingKeys.Engine, "ModelsDirectory")] = Path.Combine(RepoPaths.Root, "models"),
            [Key(SettingKeys.Engine, "Device")] = "cpu",
            [Key(SettingKeys.Engine, "Threads")] = "1",
            [Key(SettingKeys.Engine, "LoadReportInterval")] = "00:00:00.5",
            [Key(SettingKeys.Placement, "LoadRefreshInterval")] = "00:00:00.5",
            [Key(SettingKeys.Albums, "ReconcileInterval")] = "00:00:01",
            ["Logging__LogLevel__Default"] = "Warning",
            // The engines' "result written" lines are what the duplicate count reads.
            ["Logging__LogLevel__Sair.Grains.Jobs.RestorationRunner"] = "Information",
        };
        if (role == SiloMetadataKeys.EngineRole)
        {
            variables[SettingKeys.EnvironmentVariable(SettingKeys.EngineGeneratorPath)] = settings.Generator;
            variables[Key(SettingKeys.Engine, "ProjectionIterations")] = "5";
        }

        return variables;
    }

    /// <summary>The album's photos, uploaded through the grid as a client does: johns chips at 16 px, and one reference chip.</summary>
    private static async Task<(string Reference, ImmutableArray<string> Photos)> UploadAlbumAsync(IClusterClient grains, int count)
    {
        var chips = Directory.GetFiles(RepoPaths.SharedFile("fixtures", "faces", "johns"), "*.jpg", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).ToArray();
        var transfer = grains.GetGrain<IImageTransferGrain>(0);
        const string reference = "albums/soak/references/reference.png";
        await transfer.PutAsync(reference, Png(chips[0], side: null));
        var photos = ImmutableArray.CreateBuilder<string>(count);
        for (var i = 0; i < count; i++)
        {
            var path = $"albums/soak/inputs/{i:D4}.png";
            await transfer.PutAsync(path, Png(chips[(i + 1) % chips.Length], side: 16));
            photos.Add(path);
        }

        return (reference, photos.MoveToImmutable());
    }

    private static byte[] Png(string file, int? side)
    {
        using var image = Image.Load<Rgb24>(file);
        if (side is { } s)
        {
            image.Mutate(p => p.Resize(s, s, KnownResamplers.Bicubic));
        }

        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    private static async Task<IHost> ConnectAsync(int gatewayPort, string serviceId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort));
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterId, serviceId));
        });
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return host;
    }

    [GeneratedRegex(@"Job (?<job>\S+) attempt (?<attempt>\d+): result written to")]
    private static partial Regex ResultWritten();
}
