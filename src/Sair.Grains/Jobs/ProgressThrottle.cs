using Microsoft.Extensions.Logging;

namespace Sair.Grains.Jobs;

/// <summary>
/// Forwards engine progress to a job grain without stalling the engine: one report in flight at a time and at most
/// one per interval; values arriving meanwhile are dropped, the next report carries newer ones. A report the grain
/// refuses (the attempt was superseded) cancels the run.
/// </summary>
internal sealed class ProgressThrottle<T>(
    Func<T, Task<bool>> send,
    CancellationTokenSource run,
    TimeSpan interval,
    ILogger logger) : IProgress<T>
{
    private readonly Lock _gate = new();
    private bool _sending;
    // Null until the first report: TickCount64 minus long.MinValue overflows, which used to drop every report.
    private long? _lastSent;

    public void Report(T value)
    {
        lock (_gate)
        {
            if (_sending || (_lastSent is { } last && Environment.TickCount64 - last < (long)interval.TotalMilliseconds))
            {
                return;
            }

            _sending = true;
        }

        _ = SendAsync(value);
    }

    private async Task SendAsync(T value)
    {
        try
        {
            if (!await send(value))
            {
                await run.CancelAsync();
            }
        }
        catch (Exception exception)
        {
            logger.LogDebug(exception, "A progress report was lost; the next one supersedes it");
        }
        finally
        {
            lock (_gate)
            {
                _sending = false;
                _lastSent = Environment.TickCount64;
            }
        }
    }
}
