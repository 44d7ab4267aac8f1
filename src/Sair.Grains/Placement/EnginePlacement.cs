using Orleans.Placement;

namespace Sair.Grains.Placement;

/// <summary>Places a grain on the least-loaded engine silo (see <see cref="EnginePlacementDirector"/>).</summary>
[GenerateSerializer, Immutable, Alias("sair.EnginePlacementStrategy")]
public sealed class EnginePlacementStrategy : PlacementStrategy;

/// <summary>Marks a grain class that must run on an engine silo (<c>sair.role=engine</c>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class EnginePlacementAttribute() : PlacementAttribute(new EnginePlacementStrategy());
