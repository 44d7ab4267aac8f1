using Sair.Engine.Runtime;
using Sair.Silo.Health;

namespace Sair.Silo.Adapters;

/// <summary>
/// The readiness of a silo's models: not ready while they load, ready once they have, and not ready with the cause
/// when loading failed. Readiness probes read it through <see cref="IEngineReadiness"/>; requests that need the models
/// wait on <see cref="WhenReadyAsync"/>.
/// </summary>
public sealed class ModelsReadiness : IEngineReadiness
{
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile string? _notReady;

    public bool IsReady => _loaded.Task.IsCompletedSuccessfully && _notReady is null;

    public string? Reason => IsReady
        ? null
        : Failure is { } failure
            ? $"the engine's models could not be loaded: {NativeErrors.Clean(failure.Message)}"
            : _notReady ?? "the engine is loading its models";

    /// <summary>Why loading failed, or null.</summary>
    public Exception? Failure => _loaded.Task.Exception?.InnerException;

    public void MarkReady() => _loaded.TrySetResult();

    public void MarkFailed(Exception failure) => _loaded.TrySetException(failure);

    /// <summary>Completes when the models are loaded; throws the load failure when they could not be.</summary>
    public Task WhenReadyAsync(CancellationToken cancellationToken) => _loaded.Task.WaitAsync(cancellationToken);

    public void SetReady() => _notReady = null;

    public void SetNotReady(string reason) => _notReady = string.IsNullOrWhiteSpace(reason) ? "engine not ready" : reason;
}
