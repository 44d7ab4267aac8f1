using System.Globalization;
using Sair.Engine.FaceNets.Identity;
using Sair.Engine.StyleGan;
using Sair.Engine.IO;
using Sair.Engine.Objective;
using static TorchSharp.torch;

namespace Sair.Engine.Restoration;

/// <summary>
/// w_z, the W+ code of a reference photo Z, found by optimisation (spec §3: start at the mean latent, minimise a pixel
/// MSE on downsampled images plus an identity loss). Inverting is the slow part of preparing a reference, so the result
/// is meant to be kept: <see cref="ToBytes"/>/<see cref="Save"/> and <see cref="FromBytes"/>/<see cref="Load"/>,
/// once per person.
/// </summary>
public sealed class ReferenceInversion : IDisposable
{
    private const string LatentKey = "latent";

    /// <summary>Takes over <paramref name="latent"/>.</summary>
    public ReferenceInversion(Tensor latent, int iterations, double pixelLoss, double? identitySimilarity)
    {
        ArgumentNullException.ThrowIfNull(latent);
        if (latent.dim() != 3 || latent.shape[0] != 1)
        {
            throw new ArgumentException($"A reference latent is (1, n_latent, style_dim); got ({string.Join(", ", latent.shape)}).", nameof(latent));
        }
        Latent = latent.DetachFromDisposeScope();
        Iterations = iterations;
        PixelLoss = pixelLoss;
        IdentitySimilarity = identitySimilarity;
    }

    /// <summary>w_z (1, n_latent, style_dim).</summary>
    public Tensor Latent { get; }

    /// <summary>Optimisation steps that produced it.</summary>
    public int Iterations { get; }

    /// <summary>The final pixel MSE at the projection side.</summary>
    public double PixelLoss { get; }

    /// <summary>Similarity of T(G(w_z)) to T(Z) when an identity network took part.</summary>
    public double? IdentitySimilarity { get; }

    /// <summary>Projects the reference photo into W+ with Adam on w (fixed noise, seeded start).</summary>
    /// <param name="generator">The generator the latent is for.</param>
    /// <param name="photo">Z, (1, 3, H, W) or (3, H, W) RGB in [0, 1], square and aligned like the generator's faces.</param>
    /// <param name="options">Iterations, lr, pixel side, identity weight, seed.</param>
    /// <param name="identity">Adds the identity loss when given.</param>
    /// <param name="cancellationToken">Checked every iteration.</param>
    public static ReferenceInversion Project(StyleGan2Generator generator, Tensor photo, ProjectionOptions options,
        IIdentityNetwork? identity = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(photo);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var device = RestorationInputs.DeviceOf(generator);
        using var outer = NewDisposeScope();
        var z = RestorationInputs.Image(photo, "reference photo", device);
        if (z.shape[2] != z.shape[3])
        {
            throw new ArgumentException($"The reference photo is {z.shape[3]}×{z.shape[2]}; crop it to an aligned square face first.", nameof(photo));
        }
        var side = Math.Min(options.PixelSide, generator.Config.Size);
        Tensor target;
        Tensor? targetEmbedding = null;
        using (no_grad())
        {
            target = RestorationInputs.Resize(z, side);
            if (identity is not null && options.IdentityWeight > 0)
            {
                targetEmbedding = identity.Embed(z).detach();
            }
        }

        using var rng = new TorchSharp.torch.Generator(unchecked((ulong)options.Seed));
        var start = generator.LatentAvg?.to(device) ?? generator.MeanLatent(options.MeanLatentSamples, rng);
        var w = start.reshape(1, 1, -1).expand(1, generator.NLatent, -1).contiguous().requires_grad_(true);
        using var adam = new LatentAdam(w, 0.9, 0.999, 1e-8);
        double pixelLoss = double.NaN;
        double? similarity = null;
        for (var i = 0; i < options.Iterations; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var image = OutputNormalization.Paper(generator.Synthesis(w, randomizeNoise: false));
            var pixel = (RestorationInputs.Resize(image, side) - target).pow(2).mean();
            var total = pixel;
            if (targetEmbedding is not null)
            {
                var sim = identity!.Similarity(identity.Embed(image), targetEmbedding);
                total = total + options.IdentityWeight * (1 - sim.mean());
                similarity = sim.mean().item<float>();
            }
            pixelLoss = pixel.item<float>();
            var gradient = autograd.grad([total], [w])[0];
            adam.Update(w, gradient, options.LearningRate);
        }
        return new ReferenceInversion(w.detach().clone().MoveToOuterDisposeScope(), options.Iterations, pixelLoss, similarity);
    }

    /// <summary>The inversion as safetensors bytes (the latent plus its provenance as metadata).</summary>
    public byte[] ToBytes() => Safetensors.Serialize([new(LatentKey, Latent)], Metadata());

    public void Save(string path) => Safetensors.Write(path, [new(LatentKey, Latent)], Metadata());

    public static ReferenceInversion FromBytes(byte[] bytes) => FromEntries(Safetensors.Deserialize(bytes, "reference inversion bytes"), "reference inversion bytes");

    public static ReferenceInversion Load(string path) => FromEntries(Safetensors.Read(path), path);

    public void Dispose() => Latent.Dispose();

    private Dictionary<string, string> Metadata()
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "sair-reference-inversion",
            ["iterations"] = Iterations.ToString(CultureInfo.InvariantCulture),
            ["pixel_loss"] = PixelLoss.ToString("R", CultureInfo.InvariantCulture),
        };
        if (IdentitySimilarity is { } s)
        {
            metadata["identity_similarity"] = s.ToString("R", CultureInfo.InvariantCulture);
        }
        return metadata;
    }

    private static ReferenceInversion FromEntries(
        (IReadOnlyList<KeyValuePair<string, Tensor>> Tensors, IReadOnlyDictionary<string, string> Metadata) file, string source)
    {
        Tensor? latent = null;
        foreach (var (name, tensor) in file.Tensors)
        {
            if (name == LatentKey)
            {
                latent = tensor;
            }
            else
            {
                tensor.Dispose();
            }
        }
        if (latent is null || !file.Metadata.TryGetValue("format", out var format) || format != "sair-reference-inversion")
        {
            latent?.Dispose();
            throw new CheckpointException(source, "not a reference inversion (no 'latent' tensor or wrong 'format' metadata); make one with ReferenceInversion.Project.");
        }
        double Number(string key) => file.Metadata.TryGetValue(key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : double.NaN;
        var similarity = Number("identity_similarity");
        return new ReferenceInversion(latent, (int)Number("iterations"), Number("pixel_loss"), double.IsNaN(similarity) ? null : similarity);
    }
}
