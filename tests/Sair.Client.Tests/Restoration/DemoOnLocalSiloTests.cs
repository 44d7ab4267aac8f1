using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sair.Client.Grid;
using Sair.Client.Tests.Support;
using Xunit.Abstractions;

namespace Sair.Client.Tests.Restoration;

/// <summary>
/// 'sair demo' as a user runs it: the sair executable in its own process, with no cluster configured, starts a real
/// local Sair.Silo (the embedded tiny random-weight generator, the npm face nets) in a temporary SAIR_HOME on ports of
/// its own, enrols the sample references, restores the sample album and writes the output folder; 'sair silo stop'
/// then ends the silo.
/// </summary>
public sealed class DemoOnLocalSiloTests(ITestOutputHelper log) : IDisposable
{
    private static readonly TimeSpan DemoPatience = TimeSpan.FromMinutes(4);

    private readonly string _work = Directory.CreateTempSubdirectory("sair-real-demo-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task The_demo_restores_the_sample_album_on_a_real_local_silo_which_is_stopped_afterwards()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var home = new SairHome(Path.Combine(_work, "home"));
        var output = Path.Combine(_work, "out");
        var environment = new Dictionary<string, string>
        {
            ["SAIR_HOME"] = home.Root,
            // Whatever the developer's shell says: no cluster, no other silo executable, ports no other silo holds.
            ["SAIR_CLUSTER"] = "",
            ["SAIR_SILO"] = "",
            ["SAIR_SILO_PORT"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["SAIR_GATEWAY_PORT"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["SAIR_HEALTH_PORT"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            // Inherited by the silo the client starts: a short inversion of each reference keeps the run brief.
            ["Sair__Engine__ProjectionIterations"] = "5",
        };

        int? exit;
        string demoLog;
        await using (var demo = Sair("demo", environment, "-o", output, "--iterations", "3", "--samples", TestImages.SampleAlbum))
        {
            exit = await demo.WaitForExitAsync(DemoPatience);
            demoLog = demo.Log;
        }

        var silo = new LocalSilo(home).Running();
        try
        {
            log.WriteLine(demoLog);
            Assert.True(exit == ExitCodes.Success, $"sair demo ended with {exit?.ToString(CultureInfo.InvariantCulture) ?? "no exit (timed out)"}:\n{demoLog}\n{SiloLog(home)}");
            Assert.NotNull(silo);

            using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "report.json")));
            var photos = report.RootElement.GetProperty("faces").EnumerateArray().ToList();
            var samples = Directory.GetFiles(Path.Combine(TestImages.SampleAlbum, "photos")).Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(samples, photos.Select(p => p.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
            Assert.All(photos, p => Assert.Equal("restored", p.GetProperty("status").GetString()));
            Assert.Equal(samples.Count, report.RootElement.GetProperty("restored").GetInt32());
            // restored_imgs/ keeps the inputs' format (--ext auto): the samples are JPEGs.
            foreach (var (folder, suffix) in new[] { ("cropped_faces", "_00.png"), ("restored_faces", "_00.png"), ("cmp", "_00.png"), ("restored_imgs", ".jpg") })
            {
                Assert.Equal(samples.Select(s => $"{s}{suffix}"),
                    Directory.GetFiles(Path.Combine(output, folder)).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            }

            // The engine's faces come back at the embedded generator's 64 px; the aligned samples are their own restored image.
            var restored = SixLabors.ImageSharp.Image.Identify(Path.Combine(output, "restored_faces", $"{samples[0]}_00.png"));
            Assert.Equal((64, 64), (restored.Width, restored.Height));

            // The silo keeps what it computed per person (the generators tuned to the references, preset paper-pti) in
            // SAIR_HOME/references, where it finds them again after a restart.
            Assert.NotEmpty(Directory.GetFiles(home.References, "*.safetensors"));

            // 'sair silo status' relays the silo's readiness, with the CPU kernels its self-check chose.
            await using var status = Sair("silo", environment, "status");
            Assert.Equal(ExitCodes.Success, await status.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Matches(@"Readiness: ready\s+cpu kernels: (default|default-im2col|avx2|sse41|no-onednn) — ", status.Log);
        }
        finally
        {
            await using (var stop = Sair("silo", environment, "stop"))
            {
                var stopped = await stop.WaitForExitAsync(TimeSpan.FromMinutes(1));
                log.WriteLine(stop.Log);
                if (silo is not null && Alive(silo.ProcessId))
                {
                    // Never leave this test's silo behind, even when 'silo stop' failed: it is ours, by its pid.
                    using var process = Process.GetProcessById(silo.ProcessId);
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                    Assert.Fail($"'sair silo stop' ended with {stopped} and left the silo (pid {silo.ProcessId}) running:\n{stop.Log}");
                }
            }
        }

        Assert.Null(new LocalSilo(home).Running());
        Assert.False(File.Exists(home.SiloStateFile));
    }

    /// <summary>The sair executable this build made (src/Sair.Client/bin/…), so it finds the silo beside it as an installed client does.</summary>
    private static ChildProcess Sair(string command, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var tests = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var client = Path.Combine(RepoPaths.Root, "src", "Sair.Client", "bin", tests.Parent!.Name, tests.Name, "sair.dll");
        Assert.True(File.Exists(client), $"{client} is missing: build src/Sair.Client");
        return ChildProcess.Start("dotnet", [client, .. command.Split(' '), .. arguments], Path.GetDirectoryName(client)!, environment);
    }

    private static bool Alive(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string SiloLog(SairHome home) =>
        File.Exists(home.SiloLog) ? $"silo log:\n{string.Join('\n', File.ReadLines(home.SiloLog).TakeLast(40))}" : "(no silo log)";
}
