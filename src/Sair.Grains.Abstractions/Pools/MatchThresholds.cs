namespace Sair.Grains.Pools;

/// <summary>
/// The default pool-match threshold of each identity net: the cosine at which, on labelled held-out faces, a stranger is
/// accepted as often as a true match is refused (the equal-error point). Two kinds of probe, because an identity net
/// scores a 32 px face very differently from a face in a photo: faces detected in ordinary photos (calibrated on photos
/// taken down ×4, against clean references), and tiny aligned inputs of at most <see cref="TinySide"/> px (calibrated
/// on aligned faces at 32 px saved as JPEG q30). Below the threshold a face is restored without identity, so a stranger
/// is not pulled towards the closest enrolled person. Measured by
/// <c>dotnet run -c Release --project bench/Sair.Bench -- match --identity-net NET</c> on the 30 held-out LFW people
/// (123 photos); the figures are in docs/matching.md.
/// </summary>
public static class MatchThresholds
{
    /// <summary>An aligned input at most this wide is a tiny probe.</summary>
    public const int TinySide = 32;

    private static readonly Dictionary<string, (double Photo, double Tiny)> Calibrated = new(StringComparer.Ordinal)
    {
        // Photos ×4: EER 2.0 % at 0.907. Tiny: EER 13.2 % at 0.889 (LFW), 6.0 % at 0.888 (johns chips, the demo's framing).
        ["faceapi-resnet34"] = (0.91, 0.89),
        // Photos ×4: EER 8.2 % at 0.487. Tiny: EER 36.8 % at 0.300 (LFW): at 32 px this net barely tells people apart.
        ["human-faceres"] = (0.49, Tiny: 0.30),
    };

    /// <summary>The calibrated threshold of <paramref name="identityNet"/> for this kind of probe, or null for a net not calibrated here.</summary>
    public static double? For(string? identityNet, bool tiny = false) =>
        identityNet is not null && Calibrated.TryGetValue(identityNet, out var threshold) ? (tiny ? threshold.Tiny : threshold.Photo) : null;

    /// <summary>The nets with a calibrated threshold.</summary>
    public static IReadOnlyCollection<string> Nets => Calibrated.Keys;
}
