using static TorchSharp.torch;

namespace Sair.Engine.Restoration;

/// <summary>
/// Optimises the runs of several callers together: each caller's <see cref="Restore"/> sets its run up on its own
/// thread (reference inversion, pivotal tuning), then hands the iterations to one loop thread that steps up to
/// <see cref="MaxBatch"/> runs per pass — one batched generator forward and backward for all runs that render with
/// the same weights, each run with its own latent, Adam state, noise, reference, mask, emotion and schedule. A run
/// joins at the next pass after its set-up and leaves when its iterations are done, when it fails or when its
/// cancellation token fires; runs beyond <see cref="MaxBatch"/> wait for a free place. Results equal
/// <see cref="SairRestorer.Restore"/>'s within float tolerance (a batched convolution may sum in another order).
/// </summary>
/// <remarks>
/// Runs share a pass only when they render with the same generator weights: the restorer's generator (so callers
/// must build their restorers on one generator instance, which no run writes), or the same reference's tuned copy
/// when pivotal tuning went through a <see cref="PivotalTuningCache"/>. The loop thread exists only while runs do.
/// </remarks>
public sealed class RestorationBatcher
{
    private readonly object _gate = new();
    private readonly Queue<Ticket> _waiting = new();
    private readonly List<Ticket> _active = [];
    private bool _looping;
    private long _passes;
    private long _steps;

    /// <param name="maxBatch">Most runs stepped in one pass (B).</param>
    public RestorationBatcher(int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        MaxBatch = maxBatch;
    }

    /// <summary>Most runs stepped in one pass.</summary>
    public int MaxBatch { get; }

    /// <summary>Generator passes taken so far (one per group of runs sharing weights per loop round).</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>Run iterations taken so far; <see cref="Steps"/> / <see cref="Passes"/> is the mean batch.</summary>
    public long Steps => Interlocked.Read(ref _steps);

    /// <summary>Runs handed to the loop and not yet ended: stepping, or waiting for a place.</summary>
    public int Runs
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count + _active.Count;
            }
        }
    }

    /// <summary>
    /// <see cref="SairRestorer.Restore"/> of <paramref name="restorer"/>, its iterations taken in passes shared with the
    /// other callers' runs; blocks until this run ends. The progress and checkpoint callbacks are called on the loop
    /// thread; a callback that blocks holds every run of the pass.
    /// </summary>
    public RestorationResult Restore(SairRestorer restorer, Tensor y01, ReferenceInput reference, SairOptions options,
        IProgress<IterationReport>? progress = null, CancellationToken cancellationToken = default, RestorationCheckpoint? resumeFrom = null,
        Action<RestorationCheckpoint>? onCheckpoint = null)
    {
        ArgumentNullException.ThrowIfNull(restorer);
        ArgumentNullException.ThrowIfNull(y01);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var jobScope = NewDisposeScope();
        using var job = new SairRestorer.Job(restorer, y01, reference, options, resumeFrom, progress, onCheckpoint, cancellationToken);
        if (!job.Done)
        {
            using var ticket = new Ticket(job);
            Enqueue(ticket);
            // Not cancellable here: the loop ends the run at its next pass when its token fires, and only then is it safe
            // to dispose.
            ticket.Finished.Wait();
        }
        job.ThrowIfFailed();
        return job.Finish();
    }

    private void Enqueue(Ticket ticket)
    {
        lock (_gate)
        {
            _waiting.Enqueue(ticket);
            if (_looping)
            {
                return;
            }
            _looping = true;
        }
        new Thread(Loop) { IsBackground = true, Name = "sair-batched-restoration" }.Start();
    }

    private void Loop()
    {
        while (true)
        {
            List<Ticket> round;
            lock (_gate)
            {
                while (_active.Count < MaxBatch && _waiting.TryDequeue(out var joining))
                {
                    _active.Add(joining);
                }
                if (_active.Count == 0)
                {
                    _looping = false;
                    return;
                }
                round = [.. _active];
            }

            foreach (var ticket in round.Where(t => t.Job.CancellationToken.IsCancellationRequested))
            {
                ticket.Job.Fail(new OperationCanceledException(ticket.Job.CancellationToken));
            }
            // Runs rendering with the same weights share one pass; the groups keep the order the runs joined in.
            foreach (var group in round.Where(t => !t.Job.Done).GroupBy(t => t.Job.GeneratorKey))
            {
                var jobs = group.Select(t => t.Job).ToList();
                try
                {
                    SairRestorer.Job.StepTogether(jobs);
                }
                catch (Exception e)
                {
                    // The shared rendering or gradient pass failed: no run of the pass can go on.
                    foreach (var job in jobs)
                    {
                        job.Fail(e);
                    }
                }
                Interlocked.Increment(ref _passes);
                Interlocked.Add(ref _steps, jobs.Count);
            }

            lock (_gate)
            {
                foreach (var ticket in round.Where(t => t.Job.Done))
                {
                    _active.Remove(ticket);
                    ticket.Finished.Set();
                }
            }
        }
    }

    /// <summary>A caller's run and the signal that its iterations are over.</summary>
    private sealed class Ticket(SairRestorer.Job job) : IDisposable
    {
        public SairRestorer.Job Job { get; } = job;

        public ManualResetEventSlim Finished { get; } = new();

        public void Dispose() => Finished.Dispose();
    }
}
