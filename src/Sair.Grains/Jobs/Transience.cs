using System.Net.Sockets;

namespace Sair.Grains.Jobs;

/// <summary>
/// Whether a run's failure is the grid's (a silo gone, a call timed out, storage unreachable or full, a stale write
/// after an outage) rather than the work's (a bad photo, no face, an engine error). A transient failure is not
/// recorded against the job: the run reports itself interrupted and the job starts the attempt again from its
/// checkpoint after a backoff — up to <see cref="EngineWorkerOptions.MaxAttempts"/> attempts.
/// </summary>
public static class Transience
{
    // Storage SDKs this project does not reference (Azure's), known by name.
    private static readonly string[] TransientTypeNames =
        ["Azure.RequestFailedException", "Orleans.Storage.InconsistentStateException", "Orleans.Runtime.OrleansMessageRejectionException",
         "Orleans.Runtime.SiloUnavailableException", "System.TimeoutException", "System.Net.Http.HttpRequestException", "System.IO.IOException"];

    public static bool IsTransient(Exception exception) => exception switch
    {
        null => false,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsTransient),
        GridException grid => TransientTypeNames.Contains(grid.OriginalType, StringComparer.Ordinal)
            || grid.OriginalType == typeof(AggregateException).FullName && grid.Message.StartsWith("Retry failed after", StringComparison.Ordinal),
        FileNotFoundException or DirectoryNotFoundException or EndOfStreamException or InvalidDataException => false,
        OrleansException or TimeoutException or HttpRequestException or SocketException or IOException => true,
        _ => TransientTypeNames.Contains(exception.GetType().FullName, StringComparer.Ordinal)
            || (exception.InnerException is { } inner && IsTransient(inner)),
    };
}
