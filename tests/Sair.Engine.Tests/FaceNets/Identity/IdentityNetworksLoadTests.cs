using Sair.Engine.FaceNets.Identity;
using Sair.Engine.IO;
using static Sair.Engine.Tests.FaceNets.Identity.ArcFaceFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets.Identity;

/// <summary>Loading user-supplied .pth weights: widths from shapes, strict copying, frozen eval networks, clear refusals.</summary>
public sealed class IdentityNetworksLoadTests
{
    [Theory]
    [InlineData(IdentityBackbone.IResNet50, 8, 64)]
    [InlineData(IdentityBackbone.IrSe50, 16, 128)]
    public void Widths_are_read_from_the_checkpoint(IdentityBackbone kind, int baseWidth, int embedding)
    {
        using var file = WeightsFile.Open(WeightsPath(kind));
        Assert.Equal(new BackboneWidths(baseWidth, embedding), IdentityNetworks.InferWidths(kind, file.Tensors, file.Path));
        using var net = IdentityNetworks.FromStateDict(kind, file.Tensors, file.Path);
        Assert.Equal(embedding, net.EmbeddingSize);
    }

    [Theory]
    [InlineData(IdentityBackbone.IResNet50)]
    [InlineData(IdentityBackbone.IrSe50)]
    public void Every_entry_of_the_file_is_copied_and_the_network_is_frozen_in_eval_mode(IdentityBackbone kind)
    {
        using var net = Load(kind);
        using var file = WeightsFile.Open(WeightsPath(kind));
        using var scope = NewDisposeScope();
        var loaded = StateDictLoader.Entries(net.Backbone).ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(file.Tensors.Count, loaded.Count);
        foreach (var (key, value) in file.Tensors)
        {
            Assert.True(loaded.TryGetValue(key, out var actual), $"no entry {key}");
            Assert.Equal(value.shape, actual.shape);
            Assert.Equal(value.dtype, actual.dtype);
            Assert.True(value.eq(actual).all().item<bool>(), $"{key} differs from the file");
        }
        Assert.False(net.Backbone.training);
        Assert.All(net.Backbone.modules(), m => Assert.False(m.training));
        Assert.All(net.Backbone.parameters(), p => Assert.False(p.requires_grad));
    }

    [Theory]
    [InlineData(IdentityBackbone.IResNet50, IdentityBackbone.IrSe50, "IR-SE50")]
    [InlineData(IdentityBackbone.IrSe50, IdentityBackbone.IResNet50, "IResNet-50")]
    public void Weights_of_the_other_backbone_are_refused_with_what_the_file_holds(IdentityBackbone fileKind, IdentityBackbone wanted, string holds)
    {
        var e = Assert.Throws<CheckpointException>(() => IdentityNetworks.Load(wanted, WeightsPath(fileKind)));
        Assert.Contains(holds, e.Problem, StringComparison.Ordinal);
        Assert.Contains(fileKind.ToString(), e.Problem, StringComparison.Ordinal);
        Assert.Equal(WeightsPath(fileKind), e.FilePath);
    }

    [Fact]
    public void A_missing_entry_is_named()
    {
        using var file = WeightsFile.Open(WeightsPath(IdentityBackbone.IResNet50));
        var partial = file.Tensors.Where(t => t.Key != "layer3.7.conv2.weight").ToList();
        var e = Assert.Throws<CheckpointException>(() => IdentityNetworks.FromStateDict(IdentityBackbone.IResNet50, partial, file.Path));
        Assert.Contains("layer3.7.conv2.weight", e.Problem, StringComparison.Ordinal);
        Assert.Contains("missing", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Files_without_BatchNorm_counters_load_as_in_PyTorch_and_embed_the_same()
    {
        using var file = WeightsFile.Open(WeightsPath(IdentityBackbone.IrSe50));
        var withoutCounters = file.Tensors.Where(t => !t.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToList();
        Assert.True(withoutCounters.Count < file.Tensors.Count);
        using var net = IdentityNetworks.FromStateDict(IdentityBackbone.IrSe50, withoutCounters, file.Path);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        AssertClose(Npy(IdentityBackbone.IrSe50, "embedding_0.npy"), net.Backbone.forward(Input(0)), "embedding_0");
    }

    [Fact]
    public void A_wrapped_state_dict_is_refused_with_the_prefix_to_strip()
    {
        using var file = WeightsFile.Open(WeightsPath(IdentityBackbone.IrSe50));
        var wrapped = file.Tensors.Select(t => KeyValuePair.Create("module." + t.Key, t.Value)).ToList();
        var e = Assert.Throws<CheckpointException>(() => IdentityNetworks.FromStateDict(IdentityBackbone.IrSe50, wrapped, "wrapped.pth"));
        Assert.Contains("'module.'", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_depth_mismatch_is_reported_as_unexpected_keys()
    {
        using var file = WeightsFile.Open(WeightsPath(IdentityBackbone.IResNet50));
        var block = file.Tensors.Where(t => t.Key.StartsWith("layer4.2.", StringComparison.Ordinal))
            .Select(t => KeyValuePair.Create(t.Key.Replace("layer4.2.", "layer4.3.", StringComparison.Ordinal), t.Value));
        var deeper = file.Tensors.Concat(block).ToList();
        var e = Assert.Throws<CheckpointException>(() => IdentityNetworks.FromStateDict(IdentityBackbone.IResNet50, deeper, file.Path));
        Assert.Contains("unexpected", e.Problem, StringComparison.Ordinal);
        Assert.Contains("layer4.3.conv1.weight", e.Problem, StringComparison.Ordinal);
    }
}
