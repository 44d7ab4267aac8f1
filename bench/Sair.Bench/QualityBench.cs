using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sair.Engine.Degradation;
using Sair.Engine.FaceNets;
using Sair.Engine.FaceNets.Identity;
using Sair.Engine.Imaging;
using Sair.Engine.Restoration;
using Sair.Engine.Training;
using Sair.Grains.Ports;
using Sair.Silo;
using Sair.Silo.Adapters;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Bench;

/// <summary>
/// Restoration quality on people the prior has not seen (issue 15): each ground-truth face is aligned as a pool enrols
/// a photo, degraded the paper's way, and restored by (a) bicubic, (b) SAIR with another photo of the same person,
/// (c) SAIR without identity and (d) SAIR with a wrong person's photo, each SAIR run set up as an engine silo sets up
/// a job. Scored by an identity net the loss does not use (Human's faceres), rank-1 among the set's ground truths, and
/// consistency PSNR of the task's degradation applied to the result against the input; the loss's own net (face-api)
/// in a separate column shows how far optimising it carries over.
/// </summary>
internal static class QualityBench
{
    /// <summary>The variants a run can restore (<c>--variants</c>, by short name); bicubic is always first.</summary>
    private static readonly (string Key, string Name)[] KnownVariants =
        [("bicubic", "bicubic"), ("ref", "sair+ref"), ("noid", "sair no-id"), ("wrong", "sair wrong-ref"), ("refphoto", "ref photo +bp")];

    public static int Run(BenchArgs args)
    {
        var setName = args.String("set", "johns");
        var count = args.Int("n", 10);
        var iterations = args.Int("iterations", 400);
        var tasks = args.String("tasks", "x4,x2jpeg30").Split(',').Select(QualityTask.Parse).ToList();
        var seed = args.Int("seed", 0);
        var outDir = Path.GetFullPath(args.String("out", "quality-results"));
        var panel = args.Int("panel", 128);
        var keys = ("bicubic," + args.String("variants", "ref,noid,wrong")).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Distinct().ToList();
        var unknown = keys.Where(k => KnownVariants.All(v => v.Key != k)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"--variants {string.Join(",", unknown)}: use any of ref,noid,wrong,refphoto");
        }
        // Back-projection (--backproject k): each SAIR result also scored after k steps of the engine's BackProjection
        // (x ← x + U(Y − D(x)), U = bicubic ↑, D = the task's bicubic ↓), as preset paper-bp does inside the restorer.
        var backProject = args.Int("backproject", 0);
        var preset = args.String("preset", "paper");
        var sairKeys = keys.Skip(1).ToList();
        var variantNames = keys.Select(k => KnownVariants.Single(v => v.Key == k).Name)
            .Concat(backProject > 0 ? sairKeys.Select(k => KnownVariants.Single(v => v.Key == k).Name + " +bp") : []).ToList();
        var engineOptions = new SairEngineOptions
        {
            GeneratorPath = args.String("generator", EmbeddedDefaults.GeneratorSetting),
            AlignmentTemplatePath = args.String("template", "") is { Length: > 0 } template ? template : null,
            EmotionDirectionsPath = args.String("emotions", "") is { Length: > 0 } emotions ? emotions : null,
            Device = args.String("device", "auto"),
            Threads = args.Int("threads", 0),
        };
        engineOptions.ProjectionIterations = args.Int("projection", engineOptions.ProjectionIterations);
        if (string.Equals(engineOptions.GeneratorPath, EmbeddedDefaults.GeneratorSetting, StringComparison.OrdinalIgnoreCase))
        {
            EmbeddedDefaults.Apply(engineOptions);
        }

        Directory.CreateDirectory(outDir);
        using var models = new EngineModels(engineOptions, restores: true);
        models.LoadAsync().GetAwaiter().GetResult();
        using var lease = models.AcquireGeneratorAsync(CancellationToken.None).GetAwaiter().GetResult();
        var generator = lease.Generator;
        var size = generator.Config.Size;
        // The scoring net: faceres through the crop the engine gives it for template-aligned faces (EngineModels.LoadIdentity).
        var faceresNet = FaceResNet.Load(engineOptions.FaceModels());
        faceresNet.to(models.Device);
        using var faceres = new FaceResIdentity(faceresNet, ownsNet: true, models.Template.DlibChip());
        var analyzer = new SairFaceAnalyzer(models);

        var (photos, people) = Pick(setName, count, analyzer, size, models.Device);
        var jobOptions = new RestorationOptions(preset, iterations, Emotion: null, EmotionStrength: 0, seed, CheckpointEvery: Math.Min(50, iterations));
        var options = SairRestorationEngine.ToSairOptions(jobOptions, models.EmotionDirections is not null, engineOptions.ProjectionIterations);
        // Ablation overrides of the preset (issue 15, item 4); each one changed is named in the output.
        var overrides = new List<string>();
        if (args.String("lr", "") is { Length: > 0 } lr)
        {
            options = options with { LearningRate = double.Parse(lr, CultureInfo.InvariantCulture) };
            overrides.Add($"lr {lr}");
        }
        if (args.String("emotion-weight", "") is { Length: > 0 } emotionWeight)
        {
            // The expression term's weight (0: off), whether the expression is named or inferred from the input.
            options = options with { EmotionWeight = double.Parse(emotionWeight, CultureInfo.InvariantCulture) };
            overrides.Add($"emotion weight {emotionWeight}");
        }
        if (args.String("geocross", "") is { Length: > 0 } geocross)
        {
            options = options with { GeoCrossWeight = double.Parse(geocross, CultureInfo.InvariantCulture) };
            overrides.Add($"GEOCROSS {geocross}");
        }
        if (args.String("noise", "") is { Length: > 0 } noise)
        {
            options = options with
            {
                RandomizeNoise = noise switch
                {
                    "random" => true,
                    "fixed" or "zero" => false,
                    _ => throw new ArgumentException("--noise: fixed, random or zero"),
                },
            };
            if (noise == "zero")
            {
                // No noise at all: the generator's noise maps set to 0 (a tuned copy takes them from it).
                using var noGrad = TorchSharp.torch.no_grad();
                foreach (var (name, buffer) in generator.named_buffers())
                {
                    if (name.StartsWith("noises.", StringComparison.Ordinal))
                    {
                        buffer.zero_();
                    }
                }
            }
            overrides.Add($"noise {noise}");
        }
        if (args.String("identity-every", "") is { Length: > 0 })
        {
            var identityEvery = args.Int("identity-every", 1);
            options = options with { IdentityInterval = identityEvery };
            overrides.Add($"identity net every {identityEvery} iteration(s)");
        }
        if (args.Int("loss-side", 0) is > 0 and var lossSide)
        {
            var fullLast = args.Int("full-last", 0);
            options = options with { LossSide = lossSide, FullSizeLastIterations = fullLast };
            overrides.Add($"losses on the {lossSide} px skip image{(fullLast > 0 ? $", the last {fullLast} iterations at full size" : "")}");
        }
        if (args.String("latent-prior", "") is { Length: > 0 } latentPrior)
        {
            options = options with { LatentPriorWeight = double.Parse(latentPrior, CultureInfo.InvariantCulture) };
            overrides.Add($"latent prior {latentPrior}");
        }
        if (args.Int("pti", 0) is > 0 and var ptiSteps)
        {
            var tuning = new PivotalTuningOptions { Steps = ptiSteps };
            options = options with
            {
                PivotalTuning = tuning with
                {
                    LearningRate = args.String("pti-lr", "") is { Length: > 0 } ptiLr ? double.Parse(ptiLr, CultureInfo.InvariantCulture) : tuning.LearningRate,
                    IdentityWeight = args.String("pti-id", "") is { Length: > 0 } ptiId ? double.Parse(ptiId, CultureInfo.InvariantCulture) : tuning.IdentityWeight,
                },
            };
            overrides.Add($"pivotal tuning {ptiSteps} steps lr {options.PivotalTuning.LearningRate} id {options.PivotalTuning.IdentityWeight}");
        }
        double? truncation = args.String("truncation", "") is { Length: > 0 } psiText ? double.Parse(psiText, CultureInfo.InvariantCulture) : null;
        if (truncation is { } psiValue)
        {
            overrides.Add($"start point truncated ψ {psiValue.ToString(CultureInfo.InvariantCulture)}");
        }
        if (backProject > 0)
        {
            overrides.Add($"back-projection {backProject}");
        }
        // --batch B: each variant's faces restored B at a time through one RestorationBatcher, as a silo with
        // Sair:Engine:BatchSize = B runs them (faces of one reference share passes); s/face is then wall time / faces.
        var batch = args.Int("batch", 1);
        if (batch > 1)
        {
            overrides.Add($"batched B = {batch}");
        }
        var settings = overrides.Count == 0 ? $"{preset} preset" : $"{preset} preset with " + string.Join(", ", overrides);
        // A pool reference without a latent is projected on its first job and the latent cached on it; later jobs reuse it.
        var projectionClock = Stopwatch.StartNew();
        var latents = people.ToDictionary(p => p.Name, p =>
        {
            using var inversion = ReferenceInversion.Project(generator, p.Reference, options.Projection, models.Identity);
            // --truncation ψ: the start point (and pivot) pulled toward the prior's mean latent, avg + ψ(w_z − avg).
            return truncation is { } psi
                ? generator.Truncate(inversion.Latent, psi).DetachFromDisposeScope()
                : inversion.Latent.clone().DetachFromDisposeScope();
        });
        var projectionSeconds = projectionClock.Elapsed.TotalSeconds / people.Count;

        var withIdentity = new SairRestorer(generator, models.Identity, models.Landmarks, models.Expressions, models.EmotionDirections, models.TuningCache);
        var withoutIdentity = new SairRestorer(generator, null, models.Landmarks, models.Expressions, models.EmotionDirections);
        var cpuModel = Sair.Engine.Runtime.CpuKernels.CpuModel();
        Console.WriteLine($"# Quality benchmark: set {setName}, n = {photos.Count} photos of {people.Count} people, generator {args.String("generator", EmbeddedDefaults.GeneratorSetting)} " +
            $"({size} px), {settings}, {iterations} iterations, reference projection {engineOptions.ProjectionIterations} iterations " +
            $"({projectionSeconds:0.0} s each), seed {seed}, {cpuModel}, {models.Device}");
        Console.WriteLine();
        Console.WriteLine("| task | variant | n | faceres cos to GT | rank-1 photo | rank-1 person | consistency PSNR dB | face-api cos to GT | faceres cos to wrong-ref person | s/face |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");

        var report = new List<object>();
        var summaries = new List<string>();
        foreach (var task in tasks)
        {
            // D's JPEG stage and what it switches off (back-projection) exactly as a job with --jpeg-quality gets them.
            var forTask = SairRestorationEngine.ToSairOptions(jobOptions with { JpegQuality = (int?)task.JpegQuality },
                models.EmotionDirections is not null, engineOptions.ProjectionIterations);
            var taskOptions = options with { JpegQuality = forTask.JpegQuality, BackProjectionSteps = forTask.BackProjectionSteps };
            var rows = new List<Row>();
            var inputs = photos.Select(photo => SyntheticDegradation.Apply(photo.Truth, task.Degradation, seed).DetachFromDisposeScope()).ToList();
            (SairRestorer Restorer, ReferenceInput Reference, SairOptions Options) Job(string key, int index)
            {
                var photo = photos[index];
                var wrong = people[(people.FindIndex(p => p.Name == photo.Person) + 1) % people.Count];
                var right = people.Single(p => p.Name == photo.Person);
                return key switch
                {
                    "ref" => (withIdentity, ReferenceInput.FromLatent(latents[right.Name], right.Reference), taskOptions),
                    "noid" => (withoutIdentity, ReferenceInput.FromLatent(models.MeanWPlus), taskOptions with { IdentityWeight = 0, PivotalTuning = new() }),
                    _ => (withIdentity, ReferenceInput.FromLatent(latents[wrong.Name], wrong.Reference), taskOptions),
                };
            }
            var batched = batch > 1 ? RestoreBatched(sairKeys.Where(k => k != "refphoto").ToList(), photos.Count, batch, Job, inputs) : null;
            foreach (var (photo, index) in photos.Select((p, i) => (p, i)))
            {
                var wrong = people[(people.FindIndex(p => p.Name == photo.Person) + 1) % people.Count];
                var right = people.Single(p => p.Name == photo.Person);
                var y = inputs[index];
                var results = new Tensor[variantNames.Count];
                var seconds = new double[variantNames.Count];
                for (var v = 0; v < keys.Count; v++)
                {
                    if (batched is not null && batched.TryGetValue((keys[v], index), out var done))
                    {
                        (results[v], seconds[v]) = done;
                        continue;
                    }
                    results[v] = keys[v] switch
                    {
                        "bicubic" => Timed(() => F.interpolate(y, size: [size, size], mode: InterpolationMode.Bicubic, align_corners: false).clamp(0, 1), out seconds[v]),
                        "ref" or "noid" or "wrong" => Timed(() =>
                        {
                            var (restorer, reference, jobOptions) = Job(keys[v], index);
                            return Restore(restorer, y, reference, jobOptions);
                        }, out seconds[v]),
                        // Not SAIR: the reference photo itself with its low frequencies replaced by the input's — how much
                        // identity a plain copy of the reference carries, the yardstick a reference-based method must beat.
                        _ => Timed(() => BackProjection.Apply(right.Reference.to(y.device), y,
                            new DegradationOptions(task.Degradation.Scale, task.Degradation.BlurSigma), 5), out seconds[v]),
                    };
                }
                for (var b = 0; b < (backProject > 0 ? sairKeys.Count : 0); b++)
                {
                    var source = results[1 + b];
                    results[keys.Count + b] = Timed(() => BackProjection.Apply(source, y,
                        new DegradationOptions(task.Degradation.Scale, task.Degradation.BlurSigma), backProject), out seconds[keys.Count + b]);
                    seconds[keys.Count + b] += seconds[1 + b];
                }
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{task.Name} {index + 1}/{photos.Count} {Path.GetFileName(photo.File)}: SAIR {string.Join(" / ", seconds.Skip(1).Take(sairKeys.Count).Select(x => x.ToString("0.0", CultureInfo.InvariantCulture)))} s"));
                rows.Add(new Row(photo, y, results, seconds, right.Reference, wrong.Name));
            }

            var scores = ScoreAll(rows, photos, task, seed, faceres, models.Identity, models.Device, variantNames.Count);
            for (var v = 0; v < variantNames.Count; v++)
            {
                var s = scores.Where(x => x.Variant == v).ToList();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {task.Name} | {variantNames[v]} | {s.Count} | {MeanStd(s.Select(x => x.FaceRes))} | {s.Count(x => x.Rank1Photo)}/{s.Count} | " +
                    $"{s.Count(x => x.Rank1Person)}/{s.Count} | {PsnrMeanStd(s.Select(x => x.Psnr))} | {MeanStd(s.Select(x => x.FaceApi))} | {MeanStd(s.Select(x => x.FaceResWrong))} | {s.Average(x => x.Seconds):0.0} |"));
            }

            summaries.Add(Wins(task, scores, photos.Count, variantNames));
            WriteMontage(rows, panel, Path.Combine(outDir, $"montage-{task.Name}.png"));
            report.Add(new
            {
                task = task.Name,
                scale = task.Degradation.Scale,
                jpegQuality = task.Degradation.JpegQuality,
                jpegInLoss = taskOptions.JpegQuality,
                photos = rows.Select((r, i) => new
                {
                    person = r.Photo.Person,
                    file = Path.GetFileName(r.Photo.File),
                    reference = Path.GetFileName(people.Single(p => p.Name == r.Photo.Person).File),
                    wrongReferencePerson = r.WrongPerson,
                    variants = scores.Where(x => x.Photo == i).Select(x => new
                    {
                        variant = variantNames[x.Variant],
                        faceresCos = x.FaceRes,
                        faceresCosToWrongReferencePerson = x.FaceResWrong,
                        faceApiCos = x.FaceApi,
                        rank1Photo = x.Rank1Photo,
                        rank1Person = x.Rank1Person,
                        consistencyPsnr = x.Psnr,
                        seconds = x.Seconds,
                    }).ToList(),
                }).ToList(),
            });
            foreach (var row in rows)
            {
                row.Dispose();
            }
        }

        Console.WriteLine();
        foreach (var line in summaries)
        {
            Console.WriteLine(line);
        }

        File.WriteAllText(Path.Combine(outDir, "quality.json"), JsonSerializer.Serialize(new
        {
            set = setName,
            n = photos.Count,
            people = people.Select(p => p.Name),
            generator = engineOptions.GeneratorPath,
            settings,
            iterations,
            projectionIterations = engineOptions.ProjectionIterations,
            projectionSecondsPerReference = projectionSeconds,
            seed,
            cpu = cpuModel,
            tasks = report,
        }, new JsonSerializerOptions
        {
            WriteIndented = true,
            // An exact consistency (D(result) = input) is +∞ dB; written as "Infinity".
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        }));
        Console.Error.WriteLine($"wrote {outDir}/quality.json and montage-<task>.png");
        foreach (var latent in latents.Values)
        {
            latent.Dispose();
        }

        return 0;
    }

    /// <summary>One ground-truth face: its person, file and aligned face at G's size.</summary>
    private sealed record Photo(string Person, string File, Tensor Truth);

    /// <summary>A person's reference photo (aligned at G's size), the one photo of them never restored.</summary>
    private sealed record Person(string Name, string File, Tensor Reference);

    private sealed record Row(Photo Photo, Tensor Input, Tensor[] Results, double[] Seconds, Tensor Reference, string WrongPerson) : IDisposable
    {
        public void Dispose()
        {
            Input.Dispose();
            foreach (var result in Results)
            {
                result.Dispose();
            }
        }
    }

    private sealed record Score(int Photo, int Variant, double FaceRes, double FaceApi, bool Rank1Photo, bool Rank1Person, double Psnr, double Seconds,
        double FaceResWrong);

    /// <summary>
    /// The set's people (sorted) with their photos (sorted): each person's last photo is their reference, the others
    /// are ground truths, taken round-robin (every person's first, then every person's second, ...) up to
    /// <paramref name="count"/>. Photos the detector finds no face in are left out and named.
    /// </summary>
    private static (List<Photo> Photos, List<Person> People) Pick(string setName, int count, SairFaceAnalyzer analyzer, int size, Device device)
    {
        var folders = setName switch
        {
            "johns" => Directory.GetDirectories(RepoPaths.SharedFile("fixtures", "faces", "johns"))
                .Select(d => (Path.GetFileName(d), Directory.GetFiles(d, "*.jpg"))).ToList(),
            "lfw-holdout" => HoldoutList.Committed.People
                .Select(p => (p, Directory.GetFiles(RepoPaths.SharedFile("data", "faces-train", "lfw"), p + "_*.jpg")
                    .Where(f => HoldoutList.PersonOf(f) == p).ToArray())).ToList(),
            _ => throw new ArgumentException($"--set {setName}: use johns or lfw-holdout"),
        };
        var people = new List<Person>();
        var truths = new List<List<string>>();
        foreach (var (name, files) in folders.OrderBy(f => f.Item1, StringComparer.Ordinal))
        {
            var sorted = files.Order(StringComparer.Ordinal).ToList();
            if (sorted.Count >= 2 && Align(analyzer, sorted[^1], size, device) is { } reference)
            {
                people.Add(new Person(name, sorted[^1], reference));
                truths.Add(sorted[..^1]);
            }
        }

        var photos = new List<Photo>();
        for (var k = 0; photos.Count < count && truths.Any(t => k < t.Count); k++)
        {
            for (var p = 0; p < people.Count && photos.Count < count; p++)
            {
                if (k < truths[p].Count && Align(analyzer, truths[p][k], size, device) is { } truth)
                {
                    photos.Add(new Photo(people[p].Name, truths[p][k], truth));
                }
            }
        }

        // Only people with a ground truth are restored; each one's wrong reference is the next of them.
        people = people.Where(p => photos.Any(ph => ph.Person == p.Name)).ToList();
        if (people.Count < 2)
        {
            throw new InvalidOperationException($"set {setName} gave ground truths of {people.Count} person(s); the wrong-reference variant needs 2 or more.");
        }

        return (photos, people);
    }

    /// <summary>
    /// A photo as a pool enrols it (detected, aligned to the prior's template at the pools' size, stored as PNG), then
    /// resized to G's side as the engine resizes a reference. Both sets are tight crops (dlib chips; deep-funneled LFW
    /// at 150 px, where the detector found no face in 10 photos of a first 4-photo run), so each is set in a grey
    /// border first, as the silo tests do, like a face in a real photo. Null (and a note) when no face is found.
    /// </summary>
    private static Tensor? Align(SairFaceAnalyzer analyzer, string file, int size, Device device)
    {
        var bytes = InBorder(file);
        try
        {
            var analysis = analyzer.AnalyzeAsync(bytes, FaceChoice.Largest, CancellationToken.None).GetAwaiter().GetResult();
            using var decoded = ImageFiles.Decode(analysis.AlignedFacePng, file);
            using var scope = NewDisposeScope();
            var pixels = ImageTensors.ToTensor(decoded);
            var face = decoded.Width == size
                ? pixels
                : F.interpolate(pixels, size: [size, size], mode: InterpolationMode.Bicubic, align_corners: false, antialias: decoded.Width > size).clamp(0, 1);
            return face.to(device).MoveToOuterDisposeScope();
        }
        catch (FaceNotFoundException)
        {
            Console.Error.WriteLine($"no face found in {file}: left out");
            return null;
        }
    }

    private static byte[] InBorder(string path)
    {
        using var chip = ImageFiles.Load(path);
        var border = chip.Width / 2;
        using var photo = new Image<Rgb24>(chip.Width + 2 * border, chip.Height + 2 * border, new Rgb24(110, 110, 110));
        photo.Mutate(p => p.DrawImage(chip, new Point(border, border), 1f));
        return ImageFiles.Encode(photo, "png");
    }

    /// <summary>
    /// Every face of each variant in <paramref name="keys"/> restored through one <see cref="RestorationBatcher"/> of
    /// <paramref name="batch"/>, from <paramref name="batch"/> caller threads (as a silo's job slots call it); the
    /// images, and each variant's wall time divided among its faces.
    /// </summary>
    private static Dictionary<(string Key, int Index), (Tensor Image, double Seconds)> RestoreBatched(IReadOnlyList<string> keys, int count, int batch,
        Func<string, int, (SairRestorer Restorer, ReferenceInput Reference, SairOptions Options)> job, IReadOnlyList<Tensor> inputs)
    {
        var batcher = new RestorationBatcher(batch);
        var results = new Dictionary<(string, int), (Tensor, double)>();
        foreach (var key in keys)
        {
            var images = new Tensor[count];
            var clock = Stopwatch.StartNew();
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = batch }, index =>
            {
                using var scope = NewDisposeScope();
                var (restorer, reference, options) = job(key, index);
                using var result = batcher.Restore(restorer, inputs[index], reference, options);
                images[index] = result.Image.detach().cpu().clone().DetachFromDisposeScope();
            });
            var seconds = clock.Elapsed.TotalSeconds / count;
            for (var index = 0; index < count; index++)
            {
                results[(key, index)] = (images[index], seconds);
            }
        }
        Console.Error.WriteLine($"batched: {batcher.Steps} iterations in {batcher.Passes} passes (mean batch {(double)batcher.Steps / Math.Max(1, batcher.Passes):0.00})");
        return results;
    }

    private static Tensor Restore(SairRestorer restorer, Tensor y, ReferenceInput reference, SairOptions options)
    {
        using var result = restorer.Restore(y, reference, options);
        return result.Image.detach().clone().DetachFromDisposeScope();
    }

    private static Tensor Timed(Func<Tensor> run, out double seconds)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var result = run().cpu().DetachFromDisposeScope();
        seconds = clock.Elapsed.TotalSeconds;
        return result;
    }

    /// <summary>Every variant of every photo scored against the ground truths of the whole run.</summary>
    private static List<Score> ScoreAll(List<Row> rows, List<Photo> photos, QualityTask task, int seed,
        IIdentityNetwork scoring, IIdentityNetwork loss, Device device, int variants)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var truths = cat(photos.Select(p => p.Truth.to(device)).ToList(), 0);
        var (scoringTruths, lossTruths) = (scoring.Embed(truths), loss.Embed(truths));
        var scores = new List<Score>();
        for (var v = 0; v < variants; v++)
        {
            var results = cat(rows.Select(r => r.Results[v].to(device)).ToList(), 0);
            var byScoring = QualityScores.CosineMatrix(scoring.Embed(results), scoringTruths);
            var byLoss = QualityScores.CosineMatrix(loss.Embed(results), lossTruths);
            var nearest = QualityScores.Nearest(byScoring);
            for (var i = 0; i < rows.Count; i++)
            {
                var degraded = SyntheticDegradation.Apply(rows[i].Results[v], task.Degradation, seed);
                // How like the wrong-reference person the result is: its mean cosine to that person's GTs.
                var wrongTruths = photos.Select((p, j) => (p, j)).Where(t => t.p.Person == rows[i].WrongPerson).Select(t => byScoring[i, t.j].item<double>()).ToList();
                scores.Add(new Score(i, v, byScoring[i, i].item<double>(), byLoss[i, i].item<double>(), nearest[i] == i,
                    photos[nearest[i]].Person == photos[i].Person, QualityScores.Psnr(degraded, rows[i].Input), rows[i].Seconds[v],
                    wrongTruths.Count > 0 ? wrongTruths.Average() : double.NaN));
            }
        }

        return scores;
    }

    private static string Wins(QualityTask task, List<Score> scores, int n, List<string> variantNames)
    {
        var bicubic = scores.Where(s => s.Variant == 0).ToDictionary(s => s.Photo);
        var parts = Enumerable.Range(1, variantNames.Count - 1).Select(v =>
        {
            var mine = scores.Where(s => s.Variant == v).ToList();
            return $"{variantNames[v]} {mine.Count(s => s.FaceRes > bicubic[s.Photo].FaceRes)}/{n} (PSNR {mine.Count(s => s.Psnr > bicubic[s.Photo].Psnr)}/{n})";
        });
        return $"- {task.Name}: photos where SAIR beats bicubic on faceres cos (on PSNR): {string.Join("; ", parts)}";
    }

    /// <summary>Mean ± sample standard deviation.</summary>
    private static string MeanStd(IEnumerable<double> values, string format = "0.000")
    {
        var list = values.ToList();
        var mean = list.Average();
        var std = list.Count > 1 ? Math.Sqrt(list.Sum(x => (x - mean) * (x - mean)) / (list.Count - 1)) : 0;
        return $"{mean.ToString(format, CultureInfo.InvariantCulture)} ± {std.ToString(format, CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// PSNR mean ± std over the results whose degraded copy differs from the input, and how many gave the input back
    /// exactly (∞ dB: bicubic often does, its ↓ undoing its ↑ to the 8-bit level and a JPEG re-encode leaving a JPEG
    /// image as it is).
    /// </summary>
    private static string PsnrMeanStd(IEnumerable<double> values)
    {
        var list = values.ToList();
        var finite = list.Where(double.IsFinite).ToList();
        var exact = list.Count - finite.Count;
        var stats = finite.Count > 0 ? MeanStd(finite, "0.0") : "–";
        return exact > 0 ? $"{stats} (+{exact} exact, ∞)" : stats;
    }

    /// <summary>
    /// Rows = photos; columns = GT | input | bicubic | SAIR + ref | SAIR no-id | SAIR wrong ref | the reference, each
    /// enlarged to <paramref name="panel"/> px by nearest neighbour so that every pixel the method made stays visible.
    /// </summary>
    private static void WriteMontage(List<Row> rows, int panel, string path)
    {
        using var scope = NewDisposeScope();
        const int gutter = 2;
        Tensor Panel(Tensor image) => F.pad(F.interpolate(image.cpu(), size: [panel, panel], mode: InterpolationMode.Nearest),
            [0, gutter, 0, gutter], value: 1);
        var lines = rows.Select(r => cat(new[] { r.Photo.Truth, r.Input }.Concat(r.Results).Append(r.Reference).Select(Panel).ToList(), 3)).ToList();
        using var image = ImageTensors.ToImage(cat(lines, 2));
        ImageFiles.Save(image, path);
    }
}

/// <summary>A degradation the benchmark restores: ×s bicubic (the PULSE kernel), then optionally a real JPEG at quality q.</summary>
internal sealed record QualityTask(string Name, SyntheticDegradationOptions Degradation)
{
    /// <summary>The JPEG stage the loss's D gets for this task (the engine's differentiable JPEG), or null.</summary>
    public double? JpegQuality => Degradation.JpegQuality;

    /// <summary><c>x4</c>, <c>x32</c>, <c>x2jpeg30</c>, ...</summary>
    public static QualityTask Parse(string name)
    {
        var match = System.Text.RegularExpressions.Regex.Match(name.Trim(), "^x([0-9]+)(?:jpeg([0-9]+))?$");
        if (!match.Success)
        {
            throw new ArgumentException($"--tasks entry '{name}': use x<scale> or x<scale>jpeg<quality>, e.g. x4,x2jpeg30");
        }

        var scale = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        int? quality = match.Groups[2].Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : null;
        return new QualityTask(name.Trim(), new SyntheticDegradationOptions(scale, JpegQuality: quality));
    }
}
