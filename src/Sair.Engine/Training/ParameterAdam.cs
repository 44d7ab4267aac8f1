using static TorchSharp.torch;

namespace Sair.Engine.Training;

/// <summary>
/// Adam over the named parameters of one network, written out so that its whole state (moments and step count) goes
/// into the training checkpoint and resumes bit for bit. Same arithmetic as torch.optim.Adam without weight decay;
/// parameters without a gradient are left alone, as torch does.
/// </summary>
internal sealed class ParameterAdam : IDisposable
{
    private readonly IReadOnlyList<(string Name, Tensor Parameter, Tensor M, Tensor V)> _slots;
    private List<(Tensor Parameter, Tensor M, Tensor V)>? _marked;
    private long _markedStep;

    public ParameterAdam(IEnumerable<(string Name, Tensor Parameter)> parameters, double learningRate, double beta1, double beta2, double epsilon)
    {
        _slots = parameters
            .Select(p => (p.Name, p.Parameter, zeros_like(p.Parameter).DetachFromDisposeScope(), zeros_like(p.Parameter).DetachFromDisposeScope()))
            .ToList();
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    public double LearningRate { get; }

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Epsilon { get; }

    /// <summary>Updates taken so far (drives the bias correction).</summary>
    public long Step { get; set; }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public void Update()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Step++;
        var correction1 = 1 - Math.Pow(Beta1, Step);
        var correction2Root = Math.Sqrt(1 - Math.Pow(Beta2, Step));
        foreach (var (_, parameter, m, v) in _slots)
        {
            var gradient = parameter.grad;
            if (gradient is null)
            {
                continue;
            }
            m.mul_(Beta1).add_(gradient, alpha: 1 - Beta1);
            v.mul_(Beta2).addcmul_(gradient, gradient, value: 1 - Beta2);
            var denominator = v.sqrt().div_(correction2Root).add_(Epsilon);
            parameter.addcdiv_(m, denominator, value: -LearningRate / correction1);
        }
    }

    /// <summary>Whether every gradient there is is finite (one device sync for all of them).</summary>
    public bool GradientsFinite()
    {
        using var scope = NewDisposeScope();
        var finite = _slots.Where(s => s.Parameter.grad is not null).Select(s => s.Parameter.grad!.isfinite().all()).ToList();
        return finite.Count == 0 || stack(finite).all().item<bool>();
    }

    /// <summary>Remembers the parameters, the moments and the step count, to go back to with <see cref="Rewind"/>.</summary>
    public void Mark()
    {
        using var noGrad = no_grad();
        _marked ??= _slots
            .Select(s => (zeros_like(s.Parameter).DetachFromDisposeScope(), zeros_like(s.M).DetachFromDisposeScope(), zeros_like(s.V).DetachFromDisposeScope()))
            .ToList();
        foreach (var ((_, parameter, m, v), (markedParameter, markedM, markedV)) in _slots.Zip(_marked))
        {
            markedParameter.copy_(parameter);
            markedM.copy_(m);
            markedV.copy_(v);
        }
        _markedStep = Step;
    }

    /// <summary>Puts the parameters, the moments and the step count back as they were at the last <see cref="Mark"/>.</summary>
    public void Rewind()
    {
        var marked = _marked ?? throw new InvalidOperationException("Nothing was marked to rewind to.");
        using var noGrad = no_grad();
        foreach (var ((_, parameter, m, v), (markedParameter, markedM, markedV)) in _slots.Zip(marked))
        {
            parameter.copy_(markedParameter);
            m.copy_(markedM);
            v.copy_(markedV);
        }
        Step = _markedStep;
    }

    /// <summary>The moments as checkpoint entries <c>{prefix}m.{name}</c> and <c>{prefix}v.{name}</c>.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> State(string prefix) =>
        _slots.Select(s => KeyValuePair.Create($"{prefix}m.{s.Name}", s.M))
            .Concat(_slots.Select(s => KeyValuePair.Create($"{prefix}v.{s.Name}", s.V)));

    /// <summary>Copies the moments back from checkpoint entries written by <see cref="State"/>.</summary>
    public void Load(IReadOnlyDictionary<string, Tensor> entries, string prefix, string source)
    {
        using var noGrad = no_grad();
        foreach (var (name, _, m, v) in _slots)
        {
            Copy(entries, $"{prefix}m.{name}", m, source);
            Copy(entries, $"{prefix}v.{name}", v, source);
        }
    }

    public void Dispose()
    {
        foreach (var (_, _, m, v) in _slots)
        {
            m.Dispose();
            v.Dispose();
        }
        foreach (var (parameter, m, v) in _marked ?? [])
        {
            parameter.Dispose();
            m.Dispose();
            v.Dispose();
        }
    }

    private static void Copy(IReadOnlyDictionary<string, Tensor> entries, string key, Tensor target, string source)
    {
        if (!entries.TryGetValue(key, out var value) || !value.shape.SequenceEqual(target.shape))
        {
            throw new IO.CheckpointException(source, $"the optimiser state '{key}' is missing or has the wrong shape: not a checkpoint of this configuration.");
        }
        target.copy_(value);
    }
}
