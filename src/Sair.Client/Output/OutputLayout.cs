using System.Text.RegularExpressions;
using Sair.Grains.Ports;

namespace Sair.Client.Output;

/// <summary>
/// How the output folder's files are made, as GFPGAN's <c>--upscale</c>, <c>--ext</c> and <c>--suffix</c>:
/// <c>restored_faces/&lt;name&gt;_00[_suffix].png</c> and <c>restored_imgs/&lt;name&gt;[_suffix].&lt;ext&gt;</c>, where
/// <c>auto</c> keeps the input's format (JPEG for .jpg/.jpeg inputs, PNG otherwise). Crops and comparisons stay PNG.
/// </summary>
public sealed partial record OutputLayout(double Upscale, string Ext = "auto", string Suffix = "")
{
    public static readonly string[] Extensions = ["auto", "png", "jpg"];

    /// <summary>The help of --ext, wherever a command writes restored_imgs/.</summary>
    public const string ExtHelp = "Format of restored_imgs/: auto (the input's: JPEG for .jpg inputs, else PNG), png or jpg";

    /// <summary>The help of --suffix, wherever a command writes restored_faces/ and restored_imgs/.</summary>
    public const string SuffixHelp = "Added to the names in restored_faces/ and restored_imgs/ (name_00_<suffix>.png, name_<suffix>.<ext>)";

    /// <summary>The default of --upscale (the demo writes its own fixed layout).</summary>
    public const double DefaultUpscale = 2.0;

    /// <summary>The default of --ext.</summary>
    public const string DefaultExt = "auto";

    /// <summary>JPEG quality of <c>restored_imgs/</c> when they are written as JPEG.</summary>
    public const int JpegQuality = 95;

    /// <summary>What is wrong with --upscale, --ext or --suffix as the user gave them, or null.</summary>
    public string? Problem() =>
        Upscale is < RestorationOptions.MinUpscale or > RestorationOptions.MaxUpscale || double.IsNaN(Upscale)
            ? $"--upscale {Upscale} is out of range: use {RestorationOptions.MinUpscale} to {RestorationOptions.MaxUpscale}."
        : !Extensions.Contains(Ext, StringComparer.OrdinalIgnoreCase) ? $"--ext '{Ext}' is unknown: use {string.Join(", ", Extensions)}."
        : !string.IsNullOrEmpty(Suffix) && !SuffixPattern().IsMatch(Suffix) ? $"--suffix '{Suffix}' is not valid: use up to 32 letters, digits, '-' or '_'."
        : null;

    /// <summary>"_suffix", or nothing.</summary>
    public string Tail => string.IsNullOrEmpty(Suffix) ? "" : "_" + Suffix;

    /// <summary>The extension restored_imgs/ gets for an input file: png or jpg.</summary>
    public string ImageExtension(string inputSource) => Ext.ToLowerInvariant() switch
    {
        "png" => "png",
        "jpg" => "jpg",
        _ => Path.GetExtension(inputSource).ToLowerInvariant() is ".jpg" or ".jpeg" ? "jpg" : "png",
    };

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$")]
    private static partial Regex SuffixPattern();
}
