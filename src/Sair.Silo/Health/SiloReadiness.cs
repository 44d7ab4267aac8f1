namespace Sair.Silo.Health;

/// <summary>
/// Tracks whether this silo is an active member of its cluster: set when the silo lifecycle reaches Active (it has
/// joined the membership table and accepts grain calls), cleared as soon as shutdown begins so that traffic drains.
/// </summary>
public sealed class SiloReadiness : ILifecycleParticipant<ISiloLifecycle>
{
    private volatile bool _active;

    public bool IsActive => _active;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(
            nameof(SiloReadiness),
            ServiceLifecycleStage.Active,
            _ =>
            {
                _active = true;
                return Task.CompletedTask;
            },
            _ =>
            {
                _active = false;
                return Task.CompletedTask;
            });
}
