namespace Sair.Engine.Runtime;

/// <summary>
/// A run kept producing NaN or infinite values after its recoveries (going back to the last finite state with a
/// smaller step or fresh noise) ran out. The message names what went non-finite first.
/// </summary>
public sealed class NonFiniteException(string message, string firstNonFinite, long step) : InvalidOperationException(message)
{
    /// <summary>What went non-finite first, in words (e.g. "the histogram term").</summary>
    public string FirstNonFinite { get; } = firstNonFinite;

    /// <summary>The iteration or training step at which it did.</summary>
    public long Step { get; } = step;
}
