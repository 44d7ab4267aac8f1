using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Sair.Engine.Degradation;

/// <summary>How to make a degraded test input Y from a high-resolution image.</summary>
/// <param name="Scale">Bicubic (PULSE kernel) downsampling factor; 1 = none.</param>
/// <param name="NoiseVariance">Variance σ² of the additive Gaussian noise on the [0, 1] scale; 0 = none.</param>
/// <param name="JpegQuality">Quality of a real JPEG encoding (4:2:0), or null for none.</param>
/// <param name="BlurSigma">σ of a Gaussian blur applied before downsampling, or null.</param>
internal sealed record SyntheticDegradationOptions(int Scale, double NoiseVariance = 0, int? JpegQuality = null, double? BlurSigma = null)
{
    /// <summary>The paper's Table 1 setting: ×32 bicubic plus Gaussian noise of variance 0.001–0.003.</summary>
    public static SyntheticDegradationOptions PaperTable1(double noiseVariance = 0.002) => new(32, noiseVariance);
}

/// <summary>
/// Makes degraded inputs for tests and demos: blur (optional) → bicubic ↓s → additive Gaussian noise → 8-bit
/// quantisation → real JPEG encoding and decoding (ImageSharp). The same seed gives the same output. This is the
/// forward model the paper evaluates on, not the differentiable operator used inside the loss.
/// </summary>
internal static class SyntheticDegradation
{
    /// <summary>Degrades an NCHW RGB batch in [0, 1]; returns a float32 CPU tensor of the degraded batch in [0, 1].</summary>
    public static Tensor Apply(Tensor highResolution, SyntheticDegradationOptions options, long seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        ImageChecks.RequireNchw(highResolution, nameof(SyntheticDegradation), channels: 3);
        if (!(options.NoiseVariance >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.NoiseVariance, "NoiseVariance must be 0 or more.");
        }
        if (options.JpegQuality is { } q && q is < 1 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(options), q, "JpegQuality must be in [1, 100].");
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var op = new DegradationOperator(new DegradationOptions(options.Scale, options.BlurSigma));
        var low = op.forward(highResolution.detach().to(ScalarType.Float32).cpu());
        if (options.NoiseVariance > 0)
        {
            using var generator = new Generator((ulong)seed);
            low = low + randn(low.shape, dtype: ScalarType.Float32, generator: generator) * Math.Sqrt(options.NoiseVariance);
        }
        var bytes = (low.clamp(0, 1) * 255).round().to(ScalarType.Byte);
        if (options.JpegQuality is { } quality)
        {
            bytes = stack(Enumerable.Range(0, (int)bytes.shape[0]).Select(i => JpegRoundTrip(bytes[i], quality)));
        }
        return (bytes.to(ScalarType.Float32) / 255).MoveToOuterDisposeScope();
    }

    /// <summary>Encodes one CHW byte image as JPEG at the given quality and decodes it again.</summary>
    private static Tensor JpegRoundTrip(Tensor chw, int quality)
    {
        var (h, w) = ((int)chw.shape[1], (int)chw.shape[2]);
        var interleaved = chw.permute(1, 2, 0).contiguous().data<byte>().ToArray();
        using var image = Image.LoadPixelData<Rgb24>(interleaved, w, h);
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream, new JpegEncoder { Quality = quality, ColorType = JpegColorType.YCbCrRatio420 });
        stream.Position = 0;
        using var decoded = Image.Load<Rgb24>(stream);
        var pixels = new Rgb24[w * h];
        decoded.CopyPixelDataTo(pixels);
        var data = new byte[pixels.Length * 3];
        for (var i = 0; i < pixels.Length; i++)
        {
            data[3 * i] = pixels[i].R;
            data[3 * i + 1] = pixels[i].G;
            data[3 * i + 2] = pixels[i].B;
        }
        return tensor(data, [h, w, 3]).permute(2, 0, 1);
    }
}
