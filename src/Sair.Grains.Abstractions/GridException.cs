namespace Sair.Grains;

/// <summary>
/// A failure inside the grid whose own exception type a client cannot load (a storage SDK's, the engine's), as it
/// reaches the client: the original message and the name of the original type, without its stack. Serializable,
/// so the client shows a message instead of failing to deserialize the silo's exception.
/// </summary>
[GenerateSerializer, Alias("sair.GridException")]
public sealed class GridException(string message, string originalType) : Exception(message)
{
    /// <summary>The full name of the exception type the grid threw.</summary>
    [Id(0)]
    public string OriginalType { get; } = originalType;
}
