namespace Sair.Grains.Pools;

/// <summary>
/// The default pool-match threshold of each identity net: the cosine at which, on labelled held-out faces, a stranger is
/// accepted as often as a true match is refused (the equal-error point), measured with degraded probes (photos taken
/// down ×4) against clean references, as album faces are matched. Below it a face is restored without identity, so a
/// stranger in a group photo is not pulled towards the closest enrolled person. Measured by
/// <c>dotnet run -c Release --project bench/Sair.Bench -- match --identity-net NET</c> on the 30 held-out LFW people
/// (123 photos); the figures are in docs/matching.md.
/// </summary>
public static class MatchThresholds
{
    private static readonly Dictionary<string, double> Calibrated = new(StringComparer.Ordinal)
    {
        // EER 2.0 % at 0.907 (×4 probes); clean probes: EER 0.5 % at 0.917. Different people score up to ~0.9 here.
        ["faceapi-resnet34"] = 0.91,
        // EER 8.2 % at 0.487 (×4 probes); clean probes: EER 6.2 % at 0.513.
        ["human-faceres"] = 0.49,
    };

    /// <summary>The calibrated threshold of <paramref name="identityNet"/>, or null for a net not calibrated here.</summary>
    public static double? For(string? identityNet) =>
        identityNet is not null && Calibrated.TryGetValue(identityNet, out var threshold) ? threshold : null;

    /// <summary>The nets with a calibrated threshold.</summary>
    public static IReadOnlyCollection<string> Nets => Calibrated.Keys;
}
