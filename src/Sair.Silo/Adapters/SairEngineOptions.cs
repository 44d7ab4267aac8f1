using Sair.Engine.FaceNets;
using Sair.Engine.Runtime;
using Sair.Grains.Ports;
using Sair.Grains;

namespace Sair.Silo.Adapters;

/// <summary>
/// The SAIR engine's models and runtime (section "Sair:Engine", shared with the grid's worker settings; environment:
/// <c>Sair__Engine__GeneratorPath=/models/ffhq-256.pt</c>, ...).
/// </summary>
public sealed class SairEngineOptions
{
    public const string Section = SettingKeys.Engine;

    /// <summary>The StyleGAN2 generator G (rosinality .pt or safetensors); required on engine silos.</summary>
    public string? GeneratorPath { get; set; }

    /// <summary>
    /// The identity network T: <c>faceapi</c> (default), <c>faceres</c> (both from the npm models), or
    /// <c>iresnet50:&lt;path&gt;</c> / <c>irse50:&lt;path&gt;</c> for user-supplied ArcFace weights.
    /// Every silo of a cluster must use the same one: pool embeddings are only comparable within one network.
    /// </summary>
    public string IdentityNet { get; set; } = "faceapi";

    /// <summary>The npm face models (node_modules, or the folder holding it); null: $SAIR_MODELS, else models/ above the app.</summary>
    public string? ModelsDirectory { get; set; }

    /// <summary>
    /// The emotion directions Δw_e fitted for this generator: a .npy (7, n_latent, style_dim), or a folder of the SAIR
    /// authors' emotion_&lt;name&gt;.npy files. Without them the emotion term is off and jobs naming an emotion fail.
    /// </summary>
    public string? EmotionDirectionsPath { get; set; }

    /// <summary>
    /// The framing G was trained on, as a template file of 5 or 68 points (<c>template.json</c> of a packaged prior);
    /// null: FFHQ's alignment recipe, right for the official FFHQ weights.
    /// </summary>
    public string? AlignmentTemplatePath { get; set; }

    /// <summary>"cpu", "cuda", "cuda:N" or "auto" (CUDA when available).</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Jobs a silo runs at once, the same key the engine worker reads; they share the silo's one generator.</summary>
    public int MaxConcurrentJobs { get; set; } = 1;

    /// <summary>
    /// Most of the running jobs optimised together in one batched generator and identity-net pass (B); 1 optimises each
    /// job on its own. Batching needs that many jobs running: at most <see cref="MaxConcurrentJobs"/>. Jobs share a pass
    /// when they render with the same weights (with preset paper-pti: the same reference). Throughput by B is measured by
    /// <c>bench batch</c> (docs/benchmarks.md).
    /// </summary>
    public int BatchSize { get; set; } = 1;

    /// <summary>libtorch's CPU threads; 0 keeps libtorch's default.</summary>
    public int Threads { get; set; }

    /// <summary>
    /// Which CPU kernels libtorch uses: "auto" (self-checked at start-up, see <see cref="CpuKernels"/>) or a
    /// configuration an operator forces: "default", "default-im2col", "avx2", "sse41", "no-onednn".
    /// </summary>
    public string CpuKernels { get; set; } = Sair.Engine.Runtime.CpuKernels.Auto;

    /// <summary>Side of the aligned faces the face analyzer stores for the pools (the engine resizes them to G's size).</summary>
    public int AlignedFaceSize { get; set; } = 256;

    /// <summary>Adam steps projecting a reference photo into W+ when its reference has no latent attached.</summary>
    public int ProjectionIterations { get; set; } = 200;

    /// <summary>
    /// Generators tuned to a reference (preset paper-pti) kept in memory, so an album's faces of one person tune once
    /// per silo; each costs the generator's weights (3 MB for the 64 px demo prior, about 120 MB at 1024 px). 0 keeps none.
    /// </summary>
    public int TunedGeneratorCache { get; set; } = 8;

    /// <summary>
    /// Inversions of reference photos kept in memory, so the faces of jobs that name a reference by path (the grain
    /// API's <c>ReferenceSelection.FromPaths</c>, as the album bench does) project it once per silo, not once per face.
    /// The CLI's <c>--reference</c> enrols into an album pool instead, whose references keep their inversion once a job
    /// made it; jobs that start before that also hit this cache. Each costs the latent's bytes: 10 kB for the 64 px demo
    /// prior, 36 kB at 1024 px. 0 keeps none.
    /// </summary>
    public int ReferenceInversionCache { get; set; } = 64;

    /// <summary>
    /// A folder where the two caches above also write what they compute — each reference's inversion and the generator
    /// tuned to it — and read it back after the silo restarts (or on another silo mounting the same folder), keyed by
    /// the prior's weights, the settings and the photo: a restarted silo's first job of a person then skips the
    /// projection and the tuning (docs/benchmarks.md, "Per-photo cost and memory of an engine"). Null or empty: memory
    /// only. The local silo <c>sair</c> starts uses <c>SAIR_HOME/references</c>.
    /// </summary>
    public string? ReferenceStore { get; set; }

    /// <summary>Most megabytes <see cref="ReferenceStore"/> may hold; the least recently used files go first.</summary>
    public int ReferenceStoreMegabytes { get; set; } = 2048;

    /// <summary>
    /// The runs root: the folder training jobs write their output and checkpoints under (a volume every engine silo
    /// mounts, /training/runs on Kubernetes), so checkpoints follow a job to another silo. Set, it confines every path
    /// a client gives a training job (<see cref="TrainingPaths"/>). Null: any absolute folder (one machine, the user's own
    /// silo).
    /// </summary>
    public string? TrainingRoot { get; set; }

    /// <summary>
    /// The data root: where training jobs may read data folders and generators besides <see cref="TrainingRoot"/>
    /// (/training/data on Kubernetes). Needs <see cref="TrainingRoot"/>.
    /// </summary>
    public string? TrainingDataRoot { get; set; }

    /// <summary>Largest photo (pixels) the face analyzer and the engine decode.</summary>
    public long MaxImagePixels { get; set; } = 40_000_000;

    /// <summary>Where the npm face models are: <see cref="ModelsDirectory"/>, else the default search.</summary>
    public FaceModelLocator FaceModels() =>
        string.IsNullOrWhiteSpace(ModelsDirectory) ? FaceModelLocator.Default() : new FaceModelLocator(ModelsDirectory);

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the bad setting and how to set it.</summary>
    /// <param name="requireGenerator">True on engine silos, which restore and so need G.</param>
    public void Validate(bool requireGenerator)
    {
        if (requireGenerator && string.IsNullOrWhiteSpace(GeneratorPath))
        {
            throw new InvalidOperationException(
                "Sair:Engine:GeneratorPath is not set but this silo runs as an engine: point it at a StyleGAN2 generator " +
                "(rosinality .pt or .safetensors), e.g. environment Sair__Engine__GeneratorPath=/models/stylegan2-ffhq-config-f.pt.");
        }

        _ = ParsedIdentityNet();
        if (!CpuKernels.Equals(Sair.Engine.Runtime.CpuKernels.Auto, StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                CpuKernelConfiguration.Parse(CpuKernels);
            }
            catch (ArgumentException e)
            {
                throw new InvalidOperationException($"{Sair.Engine.Runtime.CpuKernels.SettingKey}: {e.Message}", e);
            }
        }

        foreach (var (name, root) in new[] { (nameof(TrainingRoot), TrainingRoot), (nameof(TrainingDataRoot), TrainingDataRoot) })
        {
            if (root is not null && !Path.IsPathFullyQualified(root))
            {
                throw new InvalidOperationException($"Sair:Engine:{name} is '{root}': use an absolute folder (a volume every engine silo mounts).");
            }
        }

        if (TrainingDataRoot is not null && TrainingRoot is null)
        {
            throw new InvalidOperationException(
                "Sair:Engine:TrainingDataRoot is set without Sair:Engine:TrainingRoot: set the runs root too, or neither (one machine).");
        }

        if (Threads < 0)
        {
            throw new InvalidOperationException($"Sair:Engine:Threads is {Threads}: use 0 (libtorch's default) or a positive thread count.");
        }

        if (MaxConcurrentJobs < 1)
        {
            throw new InvalidOperationException($"Sair:Engine:MaxConcurrentJobs is {MaxConcurrentJobs}: use 1 or more.");
        }

        if (BatchSize < 1 || BatchSize > MaxConcurrentJobs)
        {
            throw new InvalidOperationException(
                $"Sair:Engine:BatchSize is {BatchSize} with Sair:Engine:MaxConcurrentJobs {MaxConcurrentJobs}: a batch holds 1 to MaxConcurrentJobs " +
                $"of the jobs a silo runs at once; set MaxConcurrentJobs (Sair__Engine__MaxConcurrentJobs) to at least the batch size.");
        }

        if (AlignedFaceSize < 64)
        {
            throw new InvalidOperationException($"Sair:Engine:AlignedFaceSize is {AlignedFaceSize}: use 64 or more (the generator's size is best).");
        }

        if (ProjectionIterations < 1)
        {
            throw new InvalidOperationException($"Sair:Engine:ProjectionIterations is {ProjectionIterations}: use 1 or more.");
        }

        if (TunedGeneratorCache < 0)
        {
            throw new InvalidOperationException($"Sair:Engine:TunedGeneratorCache is {TunedGeneratorCache}: use 0 (keep none) or more.");
        }

        if (ReferenceInversionCache < 0)
        {
            throw new InvalidOperationException($"Sair:Engine:ReferenceInversionCache is {ReferenceInversionCache}: use 0 (keep none) or more.");
        }

        if (ReferenceStoreMegabytes < 1)
        {
            throw new InvalidOperationException($"Sair:Engine:ReferenceStoreMegabytes is {ReferenceStoreMegabytes}: use 1 or more (unset Sair:Engine:ReferenceStore to keep nothing on disk).");
        }

        if (MaxImagePixels < 64 * 64)
        {
            throw new InvalidOperationException($"Sair:Engine:MaxImagePixels is {MaxImagePixels}: allow at least 4096 pixels.");
        }
    }

    /// <summary><see cref="IdentityNet"/> parsed; throws naming the setting when it is not a valid spec.</summary>
    public IdentityNetSpec ParsedIdentityNet() => IdentityNetSpec.TryParse(IdentityNet) ?? throw new InvalidOperationException(
        $"Sair:Engine:IdentityNet is '{IdentityNet}': use {IdentityNetSpec.Usage} (environment Sair__Engine__IdentityNet).");
}
