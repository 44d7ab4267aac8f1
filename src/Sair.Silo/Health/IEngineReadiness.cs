namespace Sair.Silo.Health;

/// <summary>
/// Whether this silo's engine can take jobs. The engine adapter sets it once the generator is loaded (and clears it
/// if the engine becomes unusable); readiness probes and hence the load balancer wait for it.
/// </summary>
public interface IEngineReadiness
{
    bool IsReady { get; }

    /// <summary>Why the engine is not ready (shown by the readiness probe); null when ready.</summary>
    string? Reason { get; }

    void SetReady();

    void SetNotReady(string reason);
}

/// <summary>The default flag: ready from the start on a coordinator (no engine), not ready on an engine silo until set.</summary>
public sealed class EngineReadiness(bool hasEngine) : IEngineReadiness
{
    private volatile string? _reason = hasEngine ? "the engine has not loaded its generator yet" : null;

    public bool IsReady => _reason is null;

    public string? Reason => _reason;

    public void SetReady() => _reason = null;

    public void SetNotReady(string reason) => _reason = string.IsNullOrWhiteSpace(reason) ? "engine not ready" : reason;
}
