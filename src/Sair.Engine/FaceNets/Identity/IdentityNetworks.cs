using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.FaceNets.Identity;

/// <summary>The identity backbones whose official weights users can supply.</summary>
public enum IdentityBackbone
{
    /// <summary>insightface arcface_torch IResNet-50, SAIR's identity network (<c>irestnet50.pth</c>).</summary>
    IResNet50,

    /// <summary>TreB1eN IR-SE50, pSp/e4e's identity network (<c>model_ir_se50.pth</c>).</summary>
    IrSe50,
}

/// <summary>Builds <see cref="IIdentityNetwork"/>s from user-supplied ArcFace weights (torch .pth or safetensors).</summary>
public static class IdentityNetworks
{
    private sealed record Layout(IdentityBackbone Kind, string Description, string StemKey, string HeadKey, string FileName);

    private static readonly Layout[] Layouts =
    [
        new(IdentityBackbone.IResNet50, "insightface IResNet-50", "conv1.weight", "fc.weight", "irestnet50.pth"),
        new(IdentityBackbone.IrSe50, "IR-SE50 (pSp/e4e)", "input_layer.0.weight", "output_layer.3.weight", "model_ir_se50.pth"),
    ];

    /// <summary>
    /// Reads a bare state dict (as <c>torch.save(model.state_dict())</c> writes it) and returns the frozen network with
    /// the preprocessing of the code it comes from, on <paramref name="device"/> when given. Widths are read from the
    /// weights, so narrowed test networks load too. Throws a <see cref="CheckpointException"/> that says what the file
    /// holds when it does not fit.
    /// </summary>
    public static BackboneIdentityNetwork Load(IdentityBackbone kind, string path, Device? device = null)
    {
        using var file = WeightsFile.Open(path);
        var network = FromStateDict(kind, file.Tensors, path);
        if (device is null)
        {
            return network;
        }
        try
        {
            return network.To(device);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>As <see cref="Load"/>, from tensors already read; they are copied, not kept.</summary>
    public static BackboneIdentityNetwork FromStateDict(IdentityBackbone kind, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, string source)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var widths = InferWidths(kind, tensors, source);
        nn.Module<Tensor, Tensor> backbone = kind == IdentityBackbone.IResNet50 ? new IResNet50(widths) : new IrSe50(widths);
        var counters = MissingBatchNormCounters(backbone, tensors);
        try
        {
            StateDictLoader.Load(backbone, tensors.Concat(counters), source);
            return kind == IdentityBackbone.IResNet50
                ? new BackboneIdentityNetwork("IResNet-50 (insightface, SAIR)", backbone, widths.EmbeddingSize, SairIResNetPreprocessing.Instance)
                : new BackboneIdentityNetwork("IR-SE50 (pSp)", backbone, widths.EmbeddingSize, PspIrSePreprocessing.Instance);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
        finally
        {
            counters.ForEach(c => c.Value.Dispose());
        }
    }

    /// <summary>The widths of a <paramref name="kind"/> state dict, from its stem conv and head Linear.</summary>
    public static BackboneWidths InferWidths(IdentityBackbone kind, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, string source)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var layout = Layouts.SingleOrDefault(l => l.Kind == kind) ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        var byKey = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in tensors)
        {
            byKey.TryAdd(key, value);
        }
        if (!byKey.TryGetValue(layout.StemKey, out var stem) || !byKey.TryGetValue(layout.HeadKey, out var head))
        {
            throw new CheckpointException(source, Misfit(layout, byKey));
        }
        if (stem.dim() != 4 || stem.shape[1] != 3 || head.dim() != 2)
        {
            throw new CheckpointException(source,
                $"is not a {layout.Description} state dict: '{layout.StemKey}' has shape ({string.Join(", ", stem.shape)}) and " +
                $"'{layout.HeadKey}' ({string.Join(", ", head.shape)}); expected (width, 3, 3, 3) and (embedding, 8·width·49).");
        }
        var widths = new BackboneWidths(checked((int)stem.shape[0]), checked((int)head.shape[0]));
        try
        {
            widths.Validate(kind == IdentityBackbone.IrSe50 ? IrSe50.SeReduction : 1);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException(source, $"does not describe a usable {layout.Description}: {e.Message}", e);
        }
        return widths;
    }

    // Files written before torch 0.4.1 have no BatchNorm num_batches_tracked; PyTorch's strict load fills them in, and
    // they play no part in eval mode, so zeros stand in for them here too.
    private static List<KeyValuePair<string, Tensor>> MissingBatchNormCounters(nn.Module backbone, IReadOnlyList<KeyValuePair<string, Tensor>> tensors)
    {
        var given = tensors.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        return StateDictLoader.Entries(backbone)
            .Where(e => e.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal) && !given.Contains(e.Key))
            .Select(e => KeyValuePair.Create(e.Key, zeros_like(e.Value).DetachFromDisposeScope()))
            .ToList();
    }

    private static string Misfit(Layout wanted, Dictionary<string, Tensor> byKey)
    {
        var other = Layouts.FirstOrDefault(l => l.Kind != wanted.Kind && byKey.ContainsKey(l.StemKey) && byKey.ContainsKey(l.HeadKey));
        if (other is not null)
        {
            return $"holds {other.Description} weights (like {other.FileName}), not {wanted.Description} weights " +
                $"(like {wanted.FileName}): choose the {other.Kind} backbone for this file, or pass the {wanted.FileName} weights.";
        }
        var wrapped = byKey.Keys.FirstOrDefault(k => k.EndsWith("." + wanted.StemKey, StringComparison.Ordinal));
        if (wrapped is not null)
        {
            return $"holds '{wrapped}' where a bare {wanted.Description} state dict has '{wanted.StemKey}': save the " +
                $"network's own state_dict (without the '{wrapped[..^wanted.StemKey.Length]}' prefix).";
        }
        var sample = string.Join(", ", byKey.Keys.Take(5).Select(k => $"'{k}'"));
        return $"is not a {wanted.Description} state dict: it has no '{wanted.StemKey}' and '{wanted.HeadKey}' " +
            $"(it holds {byKey.Count} tensors{(byKey.Count > 0 ? ", e.g. " + sample : "")}).";
    }
}
