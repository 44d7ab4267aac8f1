using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;

namespace Sair.Client.Tests.Support;

/// <summary>
/// Debian's real Chromium (<c>/usr/bin/chromium</c>, installed by <c>setup.sh</c>), headless with a fresh profile, driven
/// by Playwright, which is only pointed at that executable and never downloads a browser. Disposing closes the browser,
/// kills whatever of its process tree is left and deletes the profile.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string DefaultExecutable = "/usr/bin/chromium";

    /// <summary>
    /// Besides what Playwright passes (<c>--headless</c>, <c>--user-data-dir</c>): without the background-networking
    /// flags Chromium floods an offline machine with refused connections.
    /// </summary>
    private static readonly string[] Flags =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    private readonly IPlaywright _playwright;
    private readonly IBrowserContext _context;
    private readonly string _profile;

    private HeadlessChromium(IPlaywright playwright, IBrowserContext context, string profile)
    {
        _playwright = playwright;
        _context = context;
        _profile = profile;
    }

    /// <summary>The browser's version, e.g. "156.0.8078.114".</summary>
    public string Version => _context.Browser?.Version ?? "unknown";

    /// <summary>Starts the browser; throws (so the test fails, not skips) when it is not installed.</summary>
    public static async Task<HeadlessChromium> LaunchAsync(string executable = DefaultExecutable)
    {
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"Chromium not found at {executable}: run bash setup.sh");
        }

        var profile = Directory.CreateTempSubdirectory("sair-chromium-").FullName;
        IPlaywright? playwright = null;
        try
        {
            playwright = await Playwright.CreateAsync();
            var context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new()
            {
                ExecutablePath = executable,
                Headless = true,
                Args = Flags,
                ViewportSize = new() { Width = 1280, Height = 900 },
                Timeout = 60_000,
            });
            return new HeadlessChromium(playwright, context, profile);
        }
        catch
        {
            playwright?.Dispose();
            KillLeftovers(profile);
            DeleteProfile(profile);
            throw;
        }
    }

    /// <summary>
    /// Opens <paramref name="file"/> (a local HTML file), waits for its load event and reports what went wrong on the
    /// way: console errors, uncaught exceptions, failed requests, every request's URL, the state of every image, and a
    /// full-page screenshot.
    /// </summary>
    public async Task<PageCheck> OpenAsync(string file)
    {
        var consoleErrors = new ConcurrentQueue<string>();
        var failedRequests = new ConcurrentQueue<string>();
        var requests = new ConcurrentQueue<string>();
        var page = await _context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Enqueue($"{message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => consoleErrors.Enqueue("uncaught: " + error);
        page.Request += (_, request) => requests.Enqueue(request.Url);
        page.RequestFailed += (_, request) => failedRequests.Enqueue($"{request.Url}: {request.Failure}");
        try
        {
            await page.GotoAsync(new Uri(Path.GetFullPath(file)).AbsoluteUri, new() { WaitUntil = WaitUntilState.Load });
            var imagesJson = await page.EvaluateAsync<string>("""
                () => JSON.stringify(Array.from(document.images, i => ({
                    src: i.getAttribute('src'), alt: i.getAttribute('alt'), complete: i.complete,
                    naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight,
                    width: i.getBoundingClientRect().width, rendering: getComputedStyle(i).imageRendering })))
                """);
            var images = JsonSerializer.Deserialize<List<ImageState>>(imagesJson, Json) ?? [];
            var title = await page.TitleAsync();
            var screenshot = await page.ScreenshotAsync(new() { FullPage = true, Type = ScreenshotType.Png });
            return new PageCheck(title, [.. consoleErrors], [.. failedRequests], [.. requests], images, screenshot);
        }
        finally
        {
            await page.CloseAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _context.CloseAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (Exception error) when (error is TimeoutException or PlaywrightException)
        {
            // killed below
        }
        finally
        {
            _playwright.Dispose();
            KillLeftovers(_profile);
            DeleteProfile(_profile);
        }
    }

    /// <summary>Kills the process tree of any browser still running on <paramref name="profile"/> (only ours use it).</summary>
    private static void KillLeftovers(string profile)
    {
        var marker = "--user-data-dir=" + profile;
        foreach (var process in Process.GetProcesses())
        {
            using (process)
            {
                try
                {
                    var commandLine = File.ReadAllText($"/proc/{process.Id}/cmdline").Split('\0');
                    if (commandLine.Contains(marker, StringComparer.Ordinal))
                    {
                        process.Kill(entireProcessTree: true);
                        process.WaitForExit(5_000);
                    }
                }
                catch (Exception error) when (error is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // gone already, or not ours to read
                }
            }
        }
    }

    private static void DeleteProfile(string profile)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (Directory.Exists(profile))
                {
                    Directory.Delete(profile, recursive: true);
                }

                return;
            }
            catch (IOException) when (attempt < 5)
            {
                Thread.Sleep(200); // a helper process may still be writing into it
            }
        }
    }
}

/// <summary>What <see cref="HeadlessChromium.OpenAsync"/> saw of a page.</summary>
public sealed record PageCheck(
    string Title,
    IReadOnlyList<string> ConsoleErrors,
    IReadOnlyList<string> FailedRequests,
    IReadOnlyList<string> Requests,
    IReadOnlyList<ImageState> Images,
    byte[] Screenshot)
{
    /// <summary>Images the browser could not show: not complete, or complete without pixels (a broken link).</summary>
    public IReadOnlyList<ImageState> BrokenImages => [.. Images.Where(image => !image.Complete || image.NaturalWidth <= 0)];
}

/// <summary>One <c>&lt;img&gt;</c> as the browser has it after the load event.</summary>
public sealed record ImageState(string? Src, string? Alt, bool Complete, int NaturalWidth, int NaturalHeight, double Width, string Rendering);
