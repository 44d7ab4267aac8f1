using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Sair.Engine.Degradation;
using Sair.Engine.FaceNets;
using Sair.Engine.FaceNets.Identity;
using Sair.Engine.StyleGan;
using Sair.Engine.Objective;
using Sair.Engine.Restoration.Terms;
using Sair.Engine.Runtime;
using static TorchSharp.torch;

namespace Sair.Engine.Restoration;

/// <summary>
/// The SAIR restoration engine: finds w ∈ W+ minimising
/// L_d(Y, D(G(w))) + L_ID + α1·L_e + α2·L_hist (paper eq. 8, plus GEOCROSS in the official preset) by Adam on w,
/// starting from the reference's w_z. Only w is optimised; every network is frozen.
/// </summary>
/// <remarks>
/// The networks stay the caller's (the restorer disposes none of them). No run writes the generator: its noise, seeded
/// per run with <see cref="SairOptions.RandomizeNoise"/>, is handed to G with each rendering, so one generator can
/// serve several runs at once, and <see cref="RestorationBatcher"/> steps runs on one generator in batched passes.
/// </remarks>
public sealed class SairRestorer
{
    /// <summary>
    /// Non-finite steps a run recovers from before it fails with a <see cref="NonFiniteException"/>. Each recovery
    /// halves the learning rate for the rest of the run, so the last one steps at 1/32 of the schedule.
    /// </summary>
    public const int MaxRecoveries = 5;

    private readonly StyleGan2Generator generator;
    private readonly IIdentityNetwork? identity;
    private readonly ILandmarkDetector? landmarks;
    private readonly IExpressionClassifier? expressions;
    private readonly EmotionDirections? emotionDirections;
    private readonly PivotalTuningCache? tuningCache;

    /// <param name="generator">G; its modulation mode is left as set (ScaledActivations by default).</param>
    /// <param name="identity">T, needed when the identity weight is above 0; also reports the result's identity similarity.</param>
    /// <param name="landmarks">Needed for the skin-colour term (the face mask is the hull of 68 landmarks of G(w)).</param>
    /// <param name="expressions">Infers the target expression from Y when <see cref="SairOptions.Emotion"/> is null.</param>
    /// <param name="emotionDirections">Δw_e per emotion; needed for the emotion term.</param>
    /// <param name="tuningCache">Keeps pivotal tuning results across runs (<see cref="SairOptions.PivotalTuning"/>); without it each run tunes.</param>
    public SairRestorer(StyleGan2Generator generator, IIdentityNetwork? identity = null, ILandmarkDetector? landmarks = null,
        IExpressionClassifier? expressions = null, EmotionDirections? emotionDirections = null, PivotalTuningCache? tuningCache = null)
    {
        this.tuningCache = tuningCache;
        this.generator = generator ?? throw new ArgumentNullException(nameof(generator));
        this.identity = identity;
        this.landmarks = landmarks;
        this.expressions = expressions;
        this.emotionDirections = emotionDirections;
        if (emotionDirections is not null && (emotionDirections.NLatent != generator.NLatent || emotionDirections.StyleDim != generator.Config.StyleDim))
        {
            throw new ArgumentException(
                $"The emotion directions are ({emotionDirections.NLatent}, {emotionDirections.StyleDim}) per emotion but the generator's W+ is " +
                $"({generator.NLatent}, {generator.Config.StyleDim}); use directions fitted for this generator.", nameof(emotionDirections));
        }
    }

    /// <summary>The name under which <see cref="Perturb"/> sees the latent.</summary>
    internal const string LatentName = "latent";

    /// <summary>The name under which <see cref="Perturb"/> sees G(w).</summary>
    internal const string ImageName = "image";

    /// <summary>
    /// Test seam: replaces, at the given iteration, the rendering G(w) (named <see cref="ImageName"/>), each term's
    /// weighted value (named as in <see cref="LossTerms"/>) and the latent after each update (named
    /// <see cref="LatentName"/>) by what it returns.
    /// </summary>
    internal Func<int, string, Tensor, Tensor>? Perturb { get; init; }

    /// <summary>Restores the degraded face <paramref name="y01"/>.</summary>
    /// <param name="y01">Y, RGB (1, 3, h, h) or (3, h, h) in [0, 1]; h must divide the generator's size S.</param>
    /// <param name="reference">w_z and/or the reference photo Z.</param>
    /// <param name="options">The objective and optimiser settings (<see cref="SairOptions.Paper"/> or <see cref="SairOptions.Official"/>).</param>
    /// <param name="progress">Receives one report per iteration.</param>
    /// <param name="cancellationToken">Checked before every iteration (throws <see cref="OperationCanceledException"/>).</param>
    /// <param name="resumeFrom">Continues a run from its checkpoint; the options must be the same.</param>
    /// <param name="onCheckpoint">Receives a checkpoint every <see cref="SairOptions.CheckpointInterval"/> iterations; it owns (and disposes) it.</param>
    /// <exception cref="NonFiniteException">The run went non-finite again after <see cref="MaxRecoveries"/> recoveries.</exception>
    public RestorationResult Restore(Tensor y01, ReferenceInput reference, SairOptions options, IProgress<IterationReport>? progress = null,
        CancellationToken cancellationToken = default, RestorationCheckpoint? resumeFrom = null, Action<RestorationCheckpoint>? onCheckpoint = null)
    {
        ArgumentNullException.ThrowIfNull(y01);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var jobScope = NewDisposeScope();
        using var job = new Job(this, y01, reference, options, resumeFrom, progress, onCheckpoint, cancellationToken);
        while (!job.Done)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Job.StepTogether([job]);
            job.ThrowIfFailed();
        }
        return job.Finish();
    }

    /// <summary>
    /// One run's fixed context (computed once) and optimisation state. Its iterations are taken by
    /// <see cref="StepTogether"/>, alone (<see cref="Restore"/>) or in one batched pass with other runs that render
    /// with the same generator weights (<see cref="RestorationBatcher"/>).
    /// </summary>
    internal sealed class Job : ITermContext, IDisposable
    {
        private readonly SairRestorer owner;
        private readonly SairOptions options;
        private readonly CancellationToken cancellationToken;
        private readonly StyleGan2Generator g;
        private readonly StyleGan2Generator? tuned;
        private readonly Tensor y;
        private readonly Tensor referenceLatent;
        private readonly Tensor? referenceEmbedding;
        private readonly Tensor? direction;
        private readonly double gamma;
        private readonly string? emotion;
        private readonly DegradationOperator degradation;
        private readonly DegradationOperator? lossSideDegradation;
        private readonly int lossSide;
        private readonly int histogramSide;
        private readonly Tensor? histogramTarget;
        private readonly SoftHistogramLoss? softHistogram;
        private readonly TorchSharp.torch.Generator rng;
        private readonly IReadOnlyList<Tensor>? noiseShapes;
        private readonly IProgress<IterationReport>? progress;
        private readonly Action<RestorationCheckpoint>? onCheckpoint;
        private readonly Stopwatch clock = new();
        private readonly Tensor w;
        private readonly LatentAdam adam;
        private readonly List<IterationReport> history;
        private readonly TimeSpan elapsedBefore;
        private readonly List<(int Iteration, string What)> nonFinite = [];
        private readonly IdentityExpansion identityExpansion = new();
        private Tensor? mask;
        private int recoveries;
        private int markedIteration;
        private int next;
        private ExceptionDispatchInfo? failure;

        public Job(SairRestorer owner, Tensor y01, ReferenceInput reference, SairOptions options, RestorationCheckpoint? resume,
            IProgress<IterationReport>? progress, Action<RestorationCheckpoint>? onCheckpoint, CancellationToken cancellationToken)
        {
            this.owner = owner;
            this.options = options;
            this.progress = progress;
            this.onCheckpoint = onCheckpoint;
            this.cancellationToken = cancellationToken;
            weightsKey = owner.generator;
            if (resume is not null && resume.OptionsFingerprint != options.Fingerprint())
            {
                throw new ArgumentException("The checkpoint was made with different options; resume with exactly the options of the interrupted run.", nameof(resume));
            }
            g = owner.generator;
            var device = RestorationInputs.DeviceOf(g);
            var size = g.Config.Size;

            y = RestorationInputs.Image(y01, "degraded input Y", device);
            var (h, wd) = (y.shape[2], y.shape[3]);
            if (h != wd)
            {
                throw new ArgumentException($"Y is {wd}×{h}; the engine restores square, aligned face crops.", nameof(y01));
            }
            if (h > size)
            {
                throw new ArgumentException(
                    $"Y is {h}×{h}, larger than the generator's {size}×{size} output: downscale Y to a divisor of {size} or use a larger generator.", nameof(y01));
            }
            if (size % h != 0)
            {
                throw new ArgumentException(
                    $"Y's side {h} does not divide the generator's side {size}, so no integer degradation scale exists: resize Y to {size}/k for an integer k (e.g. {size / 4} or {size / 8}).",
                    nameof(y01));
            }
            lossSide = (int)Math.Min(options.LossSide ?? size, size);
            if (lossSide < h || lossSide % h != 0)
            {
                throw new ArgumentException(
                    $"LossSide {lossSide} must be a multiple of Y's side {h} (the loss compares D of that image with Y).", nameof(options));
            }
            RequireNetworks();

            if (reference.Latent is { } latent)
            {
                referenceLatent = RestorationInputs.Latent(latent, g, "reference latent w_z", device);
            }
            else
            {
                using var inversion = ReferenceInversion.Project(g, reference.Photo!, options.Projection, owner.identity, cancellationToken);
                referenceLatent = inversion.Latent.clone();
            }
            if (options.PivotalTuning.Steps > 0)
            {
                var photo = reference.Photo ?? throw new ArgumentException(
                    "Pivotal tuning needs the reference photo Z, not only its latent: pass the photo with the latent, or turn tuning off.", nameof(reference));
                if (owner.tuningCache is { } cache)
                {
                    (tuned, var key) = cache.TunedWithKey(g, referenceLatent, photo, options.PivotalTuning, owner.identity, cancellationToken);
                    weightsKey = key;
                }
                else
                {
                    tuned = PivotalTuning.Tune(g, referenceLatent, photo, options.PivotalTuning, owner.identity, cancellationToken);
                    weightsKey = tuned;
                }
                g = tuned;
            }
            using (no_grad())
            {
                if (owner.identity is not null)
                {
                    var target = reference.Photo is { } photo
                        ? RestorationInputs.Image(photo, "reference photo Z", device)
                        : Normalize(g.Synthesis(referenceLatent, randomizeNoise: false));
                    referenceEmbedding = owner.identity.Embed(target).detach();
                }
                if (options.EmotionWeight > 0)
                {
                    emotion = options.Emotion is { } named ? Emotions.Names[Emotions.IndexOf(named)] : InferEmotion(y);
                    direction = owner.emotionDirections!.Direction(emotion).to(device);
                    gamma = owner.emotionDirections.Gamma(emotion);
                }
            }

            // The losses see G(w) at lossSide (the full size unless LossSide asks for less; the last FullSizeLastIterations
            // at full size), so D maps that side to Y's, with the blur σ (given in pixels of the full size) scaled alike;
            // back-projection works on the full result.
            degradation = new DegradationOperator(new DegradationOptions((int)(size / h), options.BlurSigma, JpegQuality: options.JpegQuality));
            lossSideDegradation = lossSide < size
                ? new DegradationOperator(new DegradationOptions((int)(lossSide / h), options.BlurSigma * lossSide / size, JpegQuality: options.JpegQuality))
                : null;
            histogramSide = Math.Min(options.HistogramSide, lossSide);
            if (options.HistogramWeight > 0)
            {
                using (no_grad())
                {
                    histogramTarget = HistogramLoss.ToComparisonSize(y, histogramSide);
                }
                softHistogram = options.HistogramForm == TermForm.Paper ? new SoftHistogramLoss(options.SoftHistogramBins) : null;
            }

            rng = new TorchSharp.torch.Generator(unchecked((ulong)options.Seed));
            if (options.RandomizeNoise)
            {
                noiseShapes = g.StoredNoise();
            }

            if (resume is null)
            {
                w = referenceLatent.clone();
                adam = new LatentAdam(w, options.Beta1, options.Beta2, options.Epsilon);
                history = [];
            }
            else
            {
                if (!resume.Latent.shape.SequenceEqual(referenceLatent.shape) || resume.NextIteration > options.Iterations)
                {
                    throw new ArgumentException(
                        $"The checkpoint's latent ({string.Join(", ", resume.Latent.shape)}) or iteration ({resume.NextIteration}) does not fit this run.", nameof(resume));
                }
                w = resume.Latent.to(device).clone();
                adam = new LatentAdam(resume.AdamM.to(device).clone(), resume.AdamV.to(device).clone(), resume.AdamStep,
                    options.Beta1, options.Beta2, options.Epsilon);
                next = resume.NextIteration;
                history = [.. resume.History];
                elapsedBefore = history.Count > 0 ? history[^1].Elapsed : TimeSpan.Zero;
                recoveries = history.Count > 0 ? history[^1].Recoveries : 0;
                mask = resume.Mask?.to(device).clone().DetachFromDisposeScope();
                if (resume.RngState is { } state)
                {
                    rng.set_state(state);
                }
            }
            w.requires_grad_(true);
        }

        /// <summary>
        /// What decides which runs may share a rendering pass: the generator's weights (the restorer's generator, or the
        /// tuned copy's content key when <see cref="SairOptions.PivotalTuning"/> tuned it through a cache), and the side
        /// this iteration renders at when it is below the full size (<see cref="SairOptions.LossSide"/>).
        /// </summary>
        public object GeneratorKey => RenderSide is { } side ? (weightsKey, side) : weightsKey;

        private readonly object weightsKey;

        /// <summary>The side the next iteration renders G(w) at when it is below the generator's (<see cref="SairOptions.LossSide"/>), else null.</summary>
        private int? RenderSide => lossSideDegradation is not null && next < options.FirstFullSizeIteration ? lossSide : null;

        /// <summary>Every iteration is taken (or the run failed: <see cref="ThrowIfFailed"/>).</summary>
        public bool Done => failure is not null || next >= options.Iterations;

        public CancellationToken CancellationToken => cancellationToken;

        /// <summary>Rethrows what failed the run, if anything did.</summary>
        public void ThrowIfFailed() => failure?.Throw();

        /// <summary>Ends the run with <paramref name="error"/> (a batched pass it shared with others threw).</summary>
        public void Fail(Exception error) => failure ??= ExceptionDispatchInfo.Capture(error);

        /// <summary>
        /// One iteration of every run in <paramref name="jobs"/> (not done, all of one <see cref="GeneratorKey"/>): one
        /// rendering of their latents as a batch (each with its own noise), each run's terms on its own image, one
        /// gradient pass for all, and each run's own Adam update, report and checkpoint. A run whose step goes
        /// non-finite recovers alone; a run whose terms or callbacks throw fails alone (<see cref="ThrowIfFailed"/>). Since the
        /// samples of a batch never mix in G or in the terms, each run's gradient is the one it would have alone.
        /// </summary>
        public static void StepTogether(IReadOnlyList<Job> jobs)
        {
            using var scope = NewDisposeScope();
            foreach (var job in jobs)
            {
                job.clock.Start();
            }
            var images = Render(jobs.Select(job => (job.w, job.StepNoise())).ToList(), jobs[0].g, jobs[0].RenderSide);
            var xs = jobs.Select((job, b) => job.Perturbed(ImageName, job.Normalize(images[b]))).ToList();
            var embeddings = IdentityEmbeddings(jobs, xs);
            RefreshIdentityExpansions(jobs, xs);
            var stepping = new List<(Job Job, Evaluation Evaluation)>();
            for (var b = 0; b < jobs.Count; b++)
            {
                var job = jobs[b];
                job.Guard(() =>
                {
                    var evaluation = job.Evaluate(xs[b], embeddings[b]);
                    if (evaluation.Total is null)
                    {
                        job.Conclude(evaluation.Report, evaluation.Failure);
                    }
                    else
                    {
                        stepping.Add((job, evaluation));
                    }
                });
            }
            if (stepping.Count > 0)
            {
                // The graph is kept only so that a non-finite gradient can be traced to its term; it is freed with the scope.
                var total = stepping.Select(s => s.Evaluation.Total!).Aggregate((a, b) => a + b);
                var gradients = autograd.grad([total], [.. stepping.Select(s => s.Job.w)], retain_graph: true);
                for (var k = 0; k < stepping.Count; k++)
                {
                    var (job, evaluation) = stepping[k];
                    var gradient = gradients[k];
                    job.Guard(() =>
                    {
                        var (report, failed) = job.Update(evaluation, gradient);
                        job.Conclude(report, failed);
                    });
                }
            }
            foreach (var job in jobs)
            {
                job.clock.Stop();
            }
        }

        /// <summary>
        /// T(x) of every run whose identity term is on, in one batched pass of the identity network per network (several
        /// runs); null for the others, and for a run that is alone with its network (its term embeds x itself).
        /// </summary>
        private static Tensor?[] IdentityEmbeddings(IReadOnlyList<Job> jobs, IReadOnlyList<Tensor> xs)
        {
            var embeddings = new Tensor?[jobs.Count];
            // With an identity interval above 1 a run's term runs the net itself (and only every few iterations).
            foreach (var group in SharingIdentityNet(jobs, job => job.options.IdentityInterval == 1))
            {
                var batch = group.Key.Embed(cat([.. group.Select(b => xs[b])], 0));
                foreach (var (b, k) in group.Select((b, k) => (b, k)))
                {
                    embeddings[b] = batch.narrow(0, k, 1);
                }
            }
            return embeddings;
        }

        /// <summary>
        /// For the runs with <see cref="SairOptions.IdentityInterval"/> above 1 whose identity net is due this step, and
        /// which share their net with another such run: the net's value and image-space gradient for all of them in one
        /// batched forward and backward (<see cref="IdentityExpansion"/>); a run alone with its net refreshes in its term.
        /// </summary>
        private static void RefreshIdentityExpansions(IReadOnlyList<Job> jobs, IReadOnlyList<Tensor> xs)
        {
            foreach (var group in SharingIdentityNet(jobs, job => job.options.IdentityInterval > 1 && job.identityExpansion.DueAt(job.next, job.options)))
            {
                IdentityTermStep.Expand(group.Key,
                    [.. group.Select(b => (jobs[b].identityExpansion, jobs[b].next, xs[b], jobs[b].referenceEmbedding!))]);
            }
        }

        /// <summary>The indices of the runs with the identity term on that also pass <paramref name="filter"/>, by identity net, where two or more share one.</summary>
        private static IEnumerable<IGrouping<IIdentityNetwork, int>> SharingIdentityNet(IReadOnlyList<Job> jobs, Func<Job, bool> filter) =>
            Enumerable.Range(0, jobs.Count)
                .Where(b => jobs[b].options.IdentityWeight > 0 && jobs[b].owner.identity is not null && filter(jobs[b]))
                .GroupBy(b => jobs[b].owner.identity!)
                .Where(group => group.Count() > 1);

        /// <summary>Runs <paramref name="action"/>, failing this run alone when it throws.</summary>
        private void Guard(Action action)
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                Fail(e);
            }
        }

        /// <summary>Keeps a finished step (report, checkpoint) or answers a non-finite one (<see cref="Recover"/>).</summary>
        private void Conclude(IterationReport? report, string? failed)
        {
            if (report is null)
            {
                next = Recover(next, failed!);
                return;
            }
            history.Add(report);
            progress?.Report(report);
            var done = ++next;
            if (onCheckpoint is not null && options.CheckpointInterval > 0 && done % options.CheckpointInterval == 0 && done < options.Iterations)
            {
                onCheckpoint(Checkpoint(done));
            }
        }

        /// <summary>
        /// Answers a non-finite step at iteration <paramref name="i"/>: back to the state marked before the last update
        /// (so a latent that made a term non-finite is stepped to again with half the learning rate, and randomised noise
        /// is drawn afresh), or, before any update, the same iteration again. Returns the iteration to continue at.
        /// </summary>
        private int Recover(int i, string what)
        {
            nonFinite.Add((i, what));
            if (recoveries >= MaxRecoveries)
            {
                throw Failure();
            }
            recoveries++;
            if (!adam.IsMarked)
            {
                return i;
            }
            adam.Rewind(w);
            history.RemoveAll(report => report.Iteration >= markedIteration);
            return markedIteration;
        }

        private NonFiniteException Failure()
        {
            var (iteration, what) = nonFinite[0];
            var counts = string.Join(", ", nonFinite.GroupBy(f => f.What).Select(g => $"{g.Key} ×{g.Count()}"));
            return new NonFiniteException(
                $"{char.ToUpperInvariant(what[0])}{what[1..]} went non-finite (NaN or infinite) at iteration {iteration}, and the run did not get " +
                $"past it: {MaxRecoveries} recoveries, each going back to the last finite latent with half the learning rate, were followed " +
                $"by more non-finite steps ({counts}). Lower the learning rate or the weight of that term.",
                what, iteration);
        }

        private double LearningRate(int i) => options.LearningRateAt(i) * Math.Pow(0.5, recoveries);

        private static string TermWords(string name) => $"the {name.Replace('_', ' ')} term";

        public void Dispose()
        {
            mask?.Dispose();
            identityExpansion.Dispose();
            adam.Dispose();
            degradation.Dispose();
            lossSideDegradation?.Dispose();
            rng.Dispose();
            tuned?.Dispose();
        }

        /// <summary>This step's terms on its rendering, before any gradient.</summary>
        private readonly record struct Evaluation(
            IterationReport? Report, string? Failure, Tensor? Total, List<(string Name, Tensor Value)>? Terms, List<(string Name, double Value)>? Values,
            float TotalValue, double LearningRate);

        /// <summary>
        /// The weighted terms at <paramref name="x"/> = G(w) in [0, 1] (with T(x) when the pass embedded it): their sum to step on; or a report without a step (no
        /// term is on yet); or what went non-finite (a term's value, the face landmarks of the histogram term).
        /// </summary>
        private Evaluation Evaluate(Tensor x, Tensor? embedding)
        {
            var i = next;
            var lr = LearningRate(i);
            var terms = new List<(string Name, Tensor Value)>();
            var step = new TermStep(i, x, w, embedding);
            foreach (var term in LossTerm.All)
            {
                var weight = term.Weight(options);
                if (weight <= 0)
                {
                    continue;
                }
                var (value, failure) = term.Evaluate(this, step);
                if (failure is not null)
                {
                    return new Evaluation(null, failure, null, null, null, 0, lr);
                }
                if (value is not null)
                {
                    terms.Add((term.Name, Perturbed(term.Name, weight * value)));
                }
            }
            if (terms.Count == 0)
            {
                // Only terms that start later are on (e.g. the official histogram from iteration 201): nothing moves yet.
                return new Evaluation(new IterationReport(i, options.Iterations, new Dictionary<string, double>(), 0, lr, elapsedBefore + clock.Elapsed, recoveries),
                    null, null, null, null, 0, lr);
            }

            var total = terms.Select(t => t.Value).Aggregate((a, b) => a + b);
            var values = terms.Select(t => (t.Name, Value: (double)t.Value.item<float>())).ToList();
            var totalValue = total.item<float>();
            if (values.FirstOrDefault(v => !double.IsFinite(v.Value)).Name is { } broken)
            {
                return new Evaluation(null, TermWords(broken), null, null, null, 0, lr);
            }
            if (!float.IsFinite(totalValue))
            {
                return new Evaluation(null, "the total loss", null, null, null, 0, lr);
            }
            return new Evaluation(null, null, total, terms, values, totalValue, lr);
        }

        /// <summary>
        /// One Adam step on w from its <paramref name="gradient"/>; the report, or null and what went non-finite (the
        /// gradient of a term, the updated latent), in which case nothing was kept of it except a latent update, which
        /// <see cref="Recover"/> rewinds.
        /// </summary>
        private (IterationReport? Report, string? NonFinite) Update(Evaluation evaluation, Tensor gradient)
        {
            var i = next;
            if (!gradient.isfinite().all().item<bool>())
            {
                return (null, NonFiniteGradient(evaluation.Terms!));
            }
            adam.Mark(w);
            markedIteration = i;
            adam.Update(w, gradient, evaluation.LearningRate);
            if (owner.Perturb is not null)
            {
                using var noGrad = no_grad();
                w.copy_(Perturbed(LatentName, w.detach()));
            }
            if (!w.isfinite().all().item<bool>())
            {
                return (null, "the latent w");
            }
            return (new IterationReport(i, options.Iterations, evaluation.Values!.ToDictionary(v => v.Name, v => v.Value), evaluation.TotalValue,
                evaluation.LearningRate, elapsedBefore + clock.Elapsed, recoveries), null);
        }

        private Tensor Perturbed(string name, Tensor value) => owner.Perturb is { } perturb ? perturb(next, name, value) : value;

        /// <summary>Which term's own gradient is non-finite (the first), from the graph the total's gradient kept.</summary>
        private string NonFiniteGradient(List<(string Name, Tensor Value)> terms)
        {
            foreach (var (name, value) in terms)
            {
                if (!autograd.grad([value], [w], retain_graph: true)[0].isfinite().all().item<bool>())
                {
                    return $"the gradient of {TermWords(name)}";
                }
            }
            return "the gradient of the loss";
        }

        /// <summary>The face mask from the landmarks of <paramref name="generated"/>; false, keeping the old one, when they are not finite.</summary>
        private bool UpdateMask(Tensor generated)
        {
            using var noGrad = no_grad();
            using var detected = owner.landmarks!.Detect(generated.detach());
            if (!detected.isfinite().all().item<bool>())
            {
                return false;
            }
            var fresh = LandmarkHullMask.Rasterize(detected, histogramSide, histogramSide).to(generated.device).DetachFromDisposeScope();
            mask?.Dispose();
            mask = fresh;
            return true;
        }

        /// <summary>This step's noise: drawn afresh from the run's seeded generator when noise is randomised, else G's stored noise.</summary>
        private IReadOnlyList<Tensor> StepNoise()
        {
            if (noiseShapes is null)
            {
                return g.StoredNoise();
            }
            using var noGrad = no_grad();
            return [.. noiseShapes.Select(buffer => randn(buffer.shape, generator: rng).to(buffer.dtype, buffer.device))];
        }

        /// <summary>
        /// G of each latent with its own noise, raw (in G's range), in one batched pass of <paramref name="generator"/>;
        /// a single latent is rendered as it is (no batch is formed).
        /// </summary>
        private static List<Tensor> Render(IReadOnlyList<(Tensor Latent, IReadOnlyList<Tensor> Noise)> inputs, StyleGan2Generator generator,
            int? maxSide = null)
        {
            if (inputs.Count == 1)
            {
                return [generator.Synthesis(inputs[0].Latent, randomizeNoise: false, noise: inputs[0].Noise, maxSide: maxSide)];
            }
            var latents = cat([.. inputs.Select(input => input.Latent)], 0);
            var layers = inputs[0].Noise.Count;
            var noise = Enumerable.Range(0, layers).Select(layer => cat([.. inputs.Select(input => input.Noise[layer])], 0)).ToList();
            var images = generator.Synthesis(latents, randomizeNoise: false, noise: noise, maxSide: maxSide);
            return [.. Enumerable.Range(0, inputs.Count).Select(b => images.narrow(0, b, 1))];
        }

        /// <summary>G(latent) mapped to [0, 1] at full size, with this step's noise.</summary>
        private Tensor Render(Tensor latent) => Normalize(Render([(latent, StepNoise())], g)[0]);

        private Tensor Normalize(Tensor generated) =>
            options.OutputNormalization == TermForm.Official ? OutputNormalization.Official(generated) : OutputNormalization.Paper(generated);

        /// <summary>The result, rendered from the final latent (call when <see cref="Done"/>, after <see cref="ThrowIfFailed"/>).</summary>
        public RestorationResult Finish()
        {
            using var noGrad = no_grad();
            var latent = w.detach().clone();
            var outputLatent = options.RenderWithEmotionShift && direction is not null ? latent + gamma * direction : latent.clone();
            var image = Render(outputLatent);
            if (options.BackProjectionSteps > 0)
            {
                image = BackProjection.Apply(image, y, degradation.Options, options.BackProjectionSteps);
            }
            double? similarity = null;
            if (owner.identity is not null)
            {
                using var embedding = owner.identity.Embed(image);
                using var s = owner.identity.Similarity(embedding, referenceEmbedding!);
                similarity = s.mean().item<float>();
            }
            return new RestorationResult(image.MoveToOuterDisposeScope(), latent.MoveToOuterDisposeScope(), outputLatent.MoveToOuterDisposeScope(),
                history, similarity, emotion);
        }

        private RestorationCheckpoint Checkpoint(int nextIteration)
        {
            using var scope = NewDisposeScope();
            return new RestorationCheckpoint(nextIteration, w.detach().cpu().clone(), adam.M.cpu().clone(), adam.V.cpu().clone(), adam.Step,
                options.RandomizeNoise ? rng.get_state() : null, mask?.cpu().clone(), [.. history], options.Fingerprint());
        }

        private string InferEmotion(Tensor image)
        {
            using var probabilities = owner.expressions!.Probabilities(image);
            using var best = probabilities.argmax(1);
            return Emotions.Names[(int)best[0].item<long>()];
        }

        private void RequireNetworks()
        {
            if (LossTerm.All.All(term => term.Weight(options) == 0))
            {
                throw new ArgumentException("Every loss weight is 0, so there is nothing to optimise; switch at least the data term on.");
            }
            var networks = new TermNetworks(owner.identity, owner.landmarks, owner.expressions, owner.emotionDirections);
            foreach (var term in LossTerm.All.Where(term => term.Weight(options) > 0))
            {
                term.RequireNetworks(networks, options);
            }
        }

        // What the terms read (ITermContext).
        SairOptions ITermContext.Options => options;

        Tensor ITermContext.Y => y;

        DegradationOperator ITermContext.Degradation => RenderSide is not null ? lossSideDegradation! : degradation;

        Tensor ITermContext.ReferenceLatent => referenceLatent;

        Tensor? ITermContext.ReferenceEmbedding => referenceEmbedding;

        IIdentityNetwork? ITermContext.Identity => owner.identity;

        Tensor? ITermContext.EmotionDirection => direction;

        double ITermContext.EmotionGamma => gamma;

        Tensor? ITermContext.HistogramTarget => histogramTarget;

        int ITermContext.HistogramSide => histogramSide;

        SoftHistogramLoss? ITermContext.SoftHistogram => softHistogram;

        IdentityExpansion ITermContext.IdentityExpansion => identityExpansion;

        Tensor? ITermContext.FaceMask(Tensor generated, int iteration) =>
            (mask is null || (iteration - options.HistogramFirstIteration) % options.MaskInterval == 0) && !UpdateMask(generated) ? null : mask;
    }
}
