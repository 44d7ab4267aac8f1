namespace Sair.Grains;

/// <summary>
/// Names of the grain storage providers the grains ask for. The host binds each name to a provider
/// (memory in tests, Azure Storage or disk in deployments), so switching storage never touches a grain.
/// </summary>
public static class GridStorage
{
    public const string Pools = "sair-pools";
    public const string Jobs = "sair-jobs";
    public const string Albums = "sair-albums";

    /// <summary>Per-tenant bookkeeping on a grid with tenants (the jobs each tenant runs).</summary>
    public const string Tenants = "sair-tenants";

    public static IReadOnlyList<string> All { get; } = [Pools, Jobs, Albums, Tenants];
}
