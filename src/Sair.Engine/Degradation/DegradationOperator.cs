using static TorchSharp.torch;

namespace Sair.Engine.Degradation;

/// <summary>
/// Which stages of D(X) = JPEG_q((X ⊗ k)↓s) are on. Noise is left out: inside the loss the paper omits it
/// (spec §4); <see cref="SyntheticDegradation"/> adds it when making inputs.
/// </summary>
/// <param name="Scale">The downsampling factor s (1 = no downsampling); the PULSE bicubic is used.</param>
/// <param name="BlurSigma">σ of a Gaussian blur in pixels of X, or null.</param>
/// <param name="Kernel">A user blur kernel (2-D, odd sides) instead of a Gaussian, or null.</param>
/// <param name="JpegQuality">Quality of the differentiable JPEG stage, or null for none.</param>
internal sealed record DegradationOptions(int Scale, double? BlurSigma = null, Tensor? Kernel = null, double? JpegQuality = null)
{
    /// <summary>The official preset's operator: bicubic ↓s, then differentiable JPEG q = 10 when asked for.</summary>
    public static DegradationOptions Official(int scale, bool jpeg) => new(scale, JpegQuality: jpeg ? 10 : null);
}

/// <summary>The degradation operator D of the data term, each stage optional; differentiable end to end.</summary>
internal sealed class DegradationOperator : nn.Module<Tensor, Tensor>
{
    private readonly GaussianBlur? blur;
    private readonly BicubicDownsample? downsample;
    private readonly DiffJpeg? jpeg;

    public DegradationOperator(DegradationOptions options) : base(nameof(DegradationOperator))
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Scale < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Scale, "Scale must be 1 (no downsampling) or more.");
        }
        if (options.BlurSigma is not null && options.Kernel is not null)
        {
            throw new ArgumentException("Give either BlurSigma or Kernel, not both.", nameof(options));
        }
        Options = options;
        blur = options.Kernel is { } k ? new GaussianBlur(k) : options.BlurSigma is { } sigma ? new GaussianBlur(sigma) : null;
        downsample = options.Scale > 1 ? new BicubicDownsample(options.Scale) : null;
        jpeg = options.JpegQuality is { } q ? new DiffJpeg(q) : null;
        RegisterComponents();
    }

    public DegradationOptions Options { get; }

    public override Tensor forward(Tensor input)
    {
        ImageChecks.RequireNchw(input, nameof(DegradationOperator));
        using var scope = NewDisposeScope();
        var x = input;
        if (blur is not null)
        {
            x = blur.forward(x);
        }
        if (downsample is not null)
        {
            x = downsample.forward(x);
        }
        if (jpeg is not null)
        {
            x = jpeg.forward(x);
        }
        return (ReferenceEquals(x, input) ? input.alias() : x).MoveToOuterDisposeScope();
    }
}
