namespace Sair.Grains.Tenancy;

/// <summary>
/// A call the grid refuses for who makes it: no valid tenant token on a grid that has tenants, another tenant's pool,
/// album, job or training run, or a method only the silos may call. Nothing was read or changed.
/// </summary>
[GenerateSerializer, Alias("sair.GridAccessDeniedException")]
public sealed class GridAccessDeniedException(string message) : Exception(message);
