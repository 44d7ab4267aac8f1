using Microsoft.Extensions.Logging;
using Sair.Engine.Alignment;
using Sair.Engine.FaceNets;
using Sair.Engine.FaceNets.Identity;
using Sair.Engine.Restoration;
using Sair.Engine.Runtime;
using Sair.Engine.StyleGan;
using Sair.Grains.Ports;
using TorchSharp;
using static TorchSharp.torch;

namespace Sair.Silo.Adapters;

/// <summary>
/// The networks of one silo, loaded once and shared by every job and analysis: the face detector and identity net T
/// (for the pools), and on engine silos the generator G, the landmark net of the skin-colour term and, when emotion
/// directions are configured, the expression classifier. No run writes any of them (a run hands G its own noise), so
/// the <see cref="SairEngineOptions.MaxConcurrentJobs"/> job slots share one G: a run holds a slot through
/// <see cref="AcquireGeneratorAsync"/>, and with <see cref="SairEngineOptions.BatchSize"/> above 1 the running jobs'
/// iterations go through one <see cref="Batcher"/>.
/// </summary>
public sealed class EngineModels : IDisposable
{
    private readonly SairEngineOptions _options;
    private readonly ILogger? _logger;
    private readonly SemaphoreSlim _generatorSlots;
    private readonly Lock _loadGate = new();
    private readonly List<IDisposable> _owned = [];
    private Task? _loading;
    private StyleGan2Generator? _generator;
    private Tensor? _meanWPlus;
    private IIdentityNetwork? _identity;
    private FaceDetector? _detector;
    private ILandmarkDetector? _landmarks;

    /// <param name="options">Validated settings.</param>
    /// <param name="restores">True on engine silos: also load the generator and the restoration-only nets.</param>
    /// <param name="logger">Reports what was loaded.</param>
    public EngineModels(SairEngineOptions options, bool restores, ILogger<EngineModels>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(restores);
        _options = options;
        Restores = restores;
        _generatorSlots = new SemaphoreSlim(options.MaxConcurrentJobs, options.MaxConcurrentJobs);
        _logger = logger;
        var store = string.IsNullOrWhiteSpace(options.ReferenceStore)
            ? null
            : new ContentStore(options.ReferenceStore, options.ReferenceStoreMegabytes * 1024L * 1024L,
                warning => _logger?.LogWarning("Reference store: {Warning}", warning));
        TuningCache = new PivotalTuningCache(options.TunedGeneratorCache, store);
        InversionCache = new ReferenceInversionCache(options.ReferenceInversionCache, store);
        Batcher = options.BatchSize > 1 ? new RestorationBatcher(options.BatchSize) : null;
    }

    /// <summary>Steps the running jobs' iterations in batched passes; null when <see cref="SairEngineOptions.BatchSize"/> is 1.</summary>
    public RestorationBatcher? Batcher { get; }

    /// <summary>Whether this silo restores (holds a generator).</summary>
    public bool Restores { get; }

    public SairEngineOptions Options => _options;

    public ModelsReadiness Readiness { get; } = new();

    /// <summary>Where the restoration nets run.</summary>
    public Device Device { get; private set; } = CPU;

    /// <summary>G, shared by every run (none writes it).</summary>
    public StyleGan2Generator Generator => _generator ?? throw NotLoaded("generator");

    /// <summary>Generators tuned to references (preset paper-pti), kept for the next job of the same reference.</summary>
    public PivotalTuningCache TuningCache { get; }

    /// <summary>The inversions of explicit reference photos (<see cref="SairEngineOptions.ReferenceInversionCache"/>).</summary>
    public ReferenceInversionCache InversionCache { get; }

    /// <summary>G's mean latent as W+ (1, n_latent, style_dim): w's start and prior centre when a job has no references.</summary>
    public Tensor MeanWPlus => _meanWPlus ?? throw NotLoaded("generator");

    public IIdentityNetwork Identity => _identity ?? throw NotLoaded("identity network");

    /// <summary>
    /// The identity net over the whole of a dlib face chip, sharing <see cref="Identity"/>'s weights: the npm nets were
    /// trained on such chips, and <see cref="Identity"/> sees FFHQ faces through the chip's place in them
    /// (<see cref="FaceCrop.DlibChipInFfhq"/>), so both embed one face alike. Null for the ArcFace nets, whose crops are
    /// fixed fractions of an FFHQ face that a chip does not hold.
    /// </summary>
    public IIdentityNetwork? ChipIdentity { get; private set; }

    /// <summary>Face detector and landmarks on the CPU, where photos are decoded.</summary>
    public FaceDetector Detector => _detector ?? throw NotLoaded("face detector");

    /// <summary>The landmark net of the skin-colour term's face mask, on <see cref="Device"/>.</summary>
    public ILandmarkDetector Landmarks => _landmarks ?? throw NotLoaded("landmark net");

    /// <summary>Infers the target expression from the input when a job names none; null without emotion directions.</summary>
    public IExpressionClassifier? Expressions { get; private set; }

    /// <summary>
    /// The framing G was trained on, which photos are aligned to: <see cref="SairEngineOptions.AlignmentTemplatePath"/>,
    /// or FFHQ's recipe when none is set.
    /// </summary>
    public AlignmentTemplate Template { get; private set; } = AlignmentTemplate.Ffhq;

    /// <summary>Δw_e for this generator; null when <see cref="SairEngineOptions.EmotionDirectionsPath"/> is not set.</summary>
    public EmotionDirections? EmotionDirections { get; private set; }

    /// <summary>Loads everything once, on a worker thread; later calls return the same task. Readiness follows it.</summary>
    public Task LoadAsync()
    {
        lock (_loadGate)
        {
            return _loading ??= Task.Run(() =>
            {
                try
                {
                    Load();
                    Readiness.MarkReady();
                }
                catch (Exception e)
                {
                    Readiness.MarkFailed(e);
                    throw;
                }
            });
        }
    }

    /// <summary>A job slot and G for one run, waiting while every slot is taken; dispose the lease to hand the slot back.</summary>
    public async Task<GeneratorLease> AcquireGeneratorAsync(CancellationToken cancellationToken)
    {
        var generator = Generator;
        await _generatorSlots.WaitAsync(cancellationToken);
        return new GeneratorLease(generator, () => _generatorSlots.Release());
    }

    public void Dispose()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        _owned.Clear();
        TuningCache.Dispose();
        InversionCache.Dispose();
        _generatorSlots.Dispose();
    }

    private void Load()
    {
        // What each part of the load took, for the log's last line (docs/benchmarks.md, "A silo's first start").
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var lap = TimeSpan.Zero;
        var loadTimes = new List<(string Part, double Seconds)>();
        void Lap(string part)
        {
            var now = clock.Elapsed;
            loadTimes.Add((part, (now - lap).TotalSeconds));
            lap = now;
        }

        // Before anything touches libtorch: which CPU kernels compute right on this machine (one line in the log).
        CpuKernels.Ensure(_options.CpuKernels, line =>
        {
            var level = CpuKernels.Current is { Verified: true } d && d.Configuration == CpuKernelConfiguration.Default ? LogLevel.Information : LogLevel.Warning;
            _logger?.Log(level, "{CpuKernels}", line);
        });
        Lap("cpu kernels");

        _logger?.LogInformation("Loading the SAIR models ({Runtime})", TorchRuntime.EnsureLoaded());
        if (_options.Threads > 0)
        {
            torch.set_num_threads(_options.Threads);
        }

        Device = TorchRuntime.ResolveDevice(_options.Device);
        Lap("libtorch");
        var locator = _options.FaceModels();
        var cpuLandmarks = Own(new FaceApiLandmarks(Own(FaceLandmark68Net.Load(locator))));
        _detector = Own(new FaceDetector(Own(TinyFaceDetector.Load(locator)), cpuLandmarks));
        Template = string.IsNullOrWhiteSpace(_options.AlignmentTemplatePath)
            ? AlignmentTemplate.Ffhq
            : AlignmentTemplate.Load(_options.AlignmentTemplatePath);
        _identity = Own(LoadIdentity(_options.ParsedIdentityNet(), locator));
        ChipIdentity = WholeChip(_identity);
        Lap("face nets");
        if (Restores)
        {
            var path = _options.GeneratorPath!;
            _generator = Own(StyleGan2Loader.Load(path, device: Device));
            _meanWPlus = Own(MeanLatent(_generator));
            _landmarks = Device.type == DeviceType.CPU
                ? cpuLandmarks
                : Own(new FaceApiLandmarks(Own(OnDevice(FaceLandmark68Net.Load(locator)))));
            Lap("generator");
            if (!string.IsNullOrWhiteSpace(_options.EmotionDirectionsPath))
            {
                var directionsPath = _options.EmotionDirectionsPath;
                EmotionDirections = Own(Directory.Exists(directionsPath)
                    ? EmotionDirections.LoadOfficialFolder(directionsPath)
                    : EmotionDirections.Load(directionsPath));
                Expressions = Own(new FaceApiExpressionClassifier(Own(OnDevice(FaceExpressionNet.Load(locator)))));
                Lap("emotions");
            }

            _logger?.LogInformation(
                "SAIR engine ready on {Device}: generator {Path} ({Size} px, W+ {Latents}×{StyleDim}), identity {Identity}, emotion directions {Emotions}, " +
                "{Slots} job slot(s), batches of up to {Batch}",
                Device, path, _generator.Config.Size, _generator.NLatent, _generator.Config.StyleDim, _identity.Name,
                EmotionDirections is null ? "none (emotion term off)" : _options.EmotionDirectionsPath, _options.MaxConcurrentJobs, _options.BatchSize);
        }
        else
        {
            _logger?.LogInformation("SAIR face analysis ready: identity {Identity}", _identity.Name);
        }

        using var process = System.Diagnostics.Process.GetCurrentProcess();
        _logger?.LogInformation("Models loaded in {Seconds:F2} s ({Parts}); {Uptime:F2} s after the process started", clock.Elapsed.TotalSeconds,
            string.Join(", ", loadTimes.Select(t => FormattableString.Invariant($"{t.Part} {t.Seconds:F2} s"))),
            (DateTime.Now - process.StartTime).TotalSeconds);
    }

    private IIdentityNetwork LoadIdentity(IdentityNetSpec spec, FaceModelLocator locator) => spec.Kind switch
    {
        // Both npm nets were trained on dlib's tighter chips; the pools' faces and G's outputs are framed by the template.
        IdentityNetSpec.FaceApi => new FaceApiIdentity(OnDevice(FaceRecognitionNet.Load(locator)), ownsNet: true, Template.DlibChip()),
        IdentityNetSpec.FaceRes => new FaceResIdentity(OnDevice(FaceResNet.Load(locator)), ownsNet: true, Template.DlibChip()),
        IdentityNetSpec.IResNet50 => IdentityNetworks.Load(IdentityBackbone.IResNet50, spec.WeightsPath!, Device),
        _ => IdentityNetworks.Load(IdentityBackbone.IrSe50, spec.WeightsPath!, Device),
    };

    private IIdentityNetwork? WholeChip(IIdentityNetwork identity) => identity switch
    {
        FaceApiIdentity faceApi => Own(faceApi.WithCrop(FaceCrop.Whole)),
        FaceResIdentity faceRes => Own(faceRes.WithCrop(FaceCrop.Whole)),
        _ => null,
    };

    private T OnDevice<T>(T net) where T : nn.Module
    {
        net.to(Device);
        return net;
    }

    private static Tensor MeanLatent(StyleGan2Generator generator)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var rng = new torch.Generator(0);
        var mean = generator.LatentAvg ?? generator.MeanLatent(4096, rng);
        return mean.reshape(1, 1, -1).expand(1, generator.NLatent, -1).contiguous().clone().DetachFromDisposeScope();
    }

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    private InvalidOperationException NotLoaded(string what) => new(
        Readiness.Failure is { } failure
            ? $"The SAIR models failed to load, so the {what} is unavailable: {NativeErrors.Clean(failure.Message)}"
            : Restores || what is "identity network" or "face detector"
                ? $"The {what} is not loaded yet: wait for the engine's readiness."
                : $"This silo holds no {what}: it runs as a coordinator (Sair:Silo:Role); restorations run on engine silos.");
}

/// <summary>One run's job slot, and the generator it runs with.</summary>
public sealed class GeneratorLease : IDisposable
{
    private readonly Action _release;
    private int _released;

    internal GeneratorLease(StyleGan2Generator generator, Action release)
    {
        Generator = generator;
        _release = release;
    }

    public StyleGan2Generator Generator { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _release();
        }
    }
}
