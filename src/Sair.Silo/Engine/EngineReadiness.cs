namespace Sair.Silo.Engine;

/// <summary>Whether this silo's models are loaded (for health checks: an engine silo is not ready before its generator is).</summary>
public interface IEngineReadiness
{
    bool IsReady { get; }
}

/// <summary>
/// Flips once the models have loaded, or records why they could not; callers that need the models wait on
/// <see cref="WhenReadyAsync"/>.
/// </summary>
public sealed class EngineReadiness : IEngineReadiness
{
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsReady => _loaded.Task.IsCompletedSuccessfully;

    /// <summary>Why loading failed, or null.</summary>
    public Exception? Failure => _loaded.Task.Exception?.InnerException;

    public void MarkReady() => _loaded.TrySetResult();

    public void MarkFailed(Exception failure) => _loaded.TrySetException(failure);

    /// <summary>Completes when the models are loaded; throws the load failure when they could not be.</summary>
    public Task WhenReadyAsync(CancellationToken cancellationToken) => _loaded.Task.WaitAsync(cancellationToken);
}
