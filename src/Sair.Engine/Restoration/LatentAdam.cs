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

    public void Dispose()
    {
        M.Dispose();
        V.Dispose();
    }
}
