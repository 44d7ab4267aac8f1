using System.Diagnostics;
using System.Text;

namespace Sair.Testing;

/// <summary>
/// A process a test or benchmark starts and owns: output kept for failure messages, stopped by its own pid (SIGTERM, then kill),
/// never by name.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool IsRunning => !_process.HasExited;

    /// <summary>
    /// The output so far; once the process has exited, all of it (the asynchronous readers are drained first, so a
    /// test that saw the process end never reads a log cut short).
    /// </summary>
    public string Log
    {
        get
        {
            if (_process.HasExited)
            {
                _process.WaitForExit();
            }

            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for the process to end by itself: its exit code, or null when it is still running after <paramref name="patience"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Asks the process to shut down (SIGTERM to its pid) and waits; kills it when it does not stop in time.</summary>
    public async Task StopAsync(TimeSpan patience)
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString()]) { UseShellExecute = false }))
        {
            await kill!.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(patience);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Kills the process at once (SIGKILL): no shutdown, as when a node dies.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
