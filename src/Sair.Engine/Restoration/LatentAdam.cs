using static TorchSharp.torch;

namespace Sair.Engine.Restoration;

/// <summary>
/// Adam on the single latent tensor, written out so its whole state (moments and step count) can be checkpointed
/// and restored exactly. Same arithmetic as torch.optim.Adam (no weight decay, no amsgrad).
/// </summary>
internal sealed class LatentAdam : IDisposable
{
    private readonly double beta1;
    private readonly double beta2;
    private readonly double epsilon;
    private (Tensor Parameter, Tensor M, Tensor V)? marked;
    private long markedStep;

    public LatentAdam(Tensor like, double beta1, double beta2, double epsilon)
        : this(zeros_like(like), zeros_like(like), 0, beta1, beta2, epsilon)
    {
    }

    /// <summary>Takes over <paramref name="m"/> and <paramref name="v"/>.</summary>
    public LatentAdam(Tensor m, Tensor v, long step, double beta1, double beta2, double epsilon)
    {
        M = m.DetachFromDisposeScope();
        V = v.DetachFromDisposeScope();
        Step = step;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    /// <summary>First moment.</summary>
    public Tensor M { get; }

    /// <summary>Second moment.</summary>
    public Tensor V { get; }

    /// <summary>Updates taken so far.</summary>
    public long Step { get; private set; }

    /// <summary>One update of <paramref name="parameter"/> in place from its gradient.</summary>
    public void Update(Tensor parameter, Tensor gradient, double learningRate)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Step++;
        M.mul_(beta1).add_(gradient, alpha: 1 - beta1);
        V.mul_(beta2).addcmul_(gradient, gradient, value: 1 - beta2);
        var biasCorrection1 = 1 - Math.Pow(beta1, Step);
        var biasCorrection2 = 1 - Math.Pow(beta2, Step);
        var denominator = (V.sqrt() / Math.Sqrt(biasCorrection2)).add_(epsilon);
        parameter.addcdiv_(M, denominator, value: -learningRate / biasCorrection1);
    }

    /// <summary>Whether <see cref="Mark"/> has been called.</summary>
    public bool IsMarked => marked is not null;

    /// <summary>Remembers <paramref name="parameter"/> and this optimiser's state, to go back to with <see cref="Rewind"/>.</summary>
    public void Mark(Tensor parameter)
    {
        using var noGrad = no_grad();
        if (marked is null)
        {
            marked = (parameter.detach().clone().DetachFromDisposeScope(), M.clone().DetachFromDisposeScope(), V.clone().DetachFromDisposeScope());
        }
        else
        {
            marked.Value.Parameter.copy_(parameter);
            marked.Value.M.copy_(M);
            marked.Value.V.copy_(V);
        }
        markedStep = Step;
    }

    /// <summary>Puts <paramref name="parameter"/> and this optimiser's state back as they were at the last <see cref="Mark"/>.</summary>
    public void Rewind(Tensor parameter)
    {
        var (markedParameter, markedM, markedV) = marked ?? throw new InvalidOperationException("Nothing was marked to rewind to.");
        using var noGrad = no_grad();
        parameter.copy_(markedParameter);
        M.copy_(markedM);
        V.copy_(markedV);
        Step = markedStep;
    }

    public void Dispose()
    {
        M.Dispose();
        V.Dispose();
        if (marked is { } state)
        {
            state.Parameter.Dispose();
            state.M.Dispose();
            state.V.Dispose();
        }
    }
}
