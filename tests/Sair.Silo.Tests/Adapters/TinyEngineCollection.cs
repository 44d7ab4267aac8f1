namespace Sair.Silo.Tests.Adapters;

/// <summary>
/// The tests on <see cref="TinyEngine.Models"/> run one at a time: they render with its generator outside a lease
/// while official-preset runs write its noise buffers, and the machine's cores are few.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TinyEngineCollection
{
    public const string Name = "tiny engine";
}
