using Sair.Engine.FaceNets.Identity;
using static Sair.Engine.Tests.FaceNets.Identity.ArcFaceFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets.Identity;

/// <summary>Embeddings, intermediate features and input gradients against the float64 oracle of the upstream code.</summary>
public sealed class BackboneNumericsTests
{
    private static Tensor Forward(BackboneIdentityNetwork net, Tensor input, List<KeyValuePair<string, Tensor>>? taps = null) =>
        net.Backbone switch
        {
            IResNet50 r => r.Forward(input, taps),
            IrSe50 s => s.Forward(input, taps),
            _ => throw new InvalidOperationException(net.Backbone.GetType().Name),
        };

    [Theory]
    [InlineData(IdentityBackbone.IResNet50)]
    [InlineData(IdentityBackbone.IrSe50)]
    public void Embeddings_of_the_three_inputs_match_the_oracle(IdentityBackbone kind)
    {
        using var net = Load(kind);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (var i = 0; i < 3; i++)
        {
            AssertClose(Npy(kind, $"embedding_{i}.npy"), Forward(net, Input(i)), $"{kind} embedding_{i}");
        }
    }

    [Theory]
    [InlineData(IdentityBackbone.IResNet50, new[] { "stem", "layer1", "layer2", "layer3", "layer4", "fc" })]
    [InlineData(IdentityBackbone.IrSe50, new[] { "input_layer", "body2", "body6", "body20", "body23", "prenorm" })]
    public void Intermediate_features_match_the_oracle(IdentityBackbone kind, string[] names)
    {
        using var net = Load(kind);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var taps = new List<KeyValuePair<string, Tensor>>();
        Forward(net, Input(0), taps);
        var byName = taps.ToDictionary(t => t.Key, t => t.Value);
        foreach (var name in names)
        {
            Assert.True(byName.ContainsKey(name), $"no tap '{name}' (taps: {string.Join(", ", byName.Keys)})");
            AssertClose(Npy(kind, $"feat_0_{name}.npy"), byName[name], $"{kind} feat_0_{name}");
        }
    }

    [Theory]
    [InlineData(IdentityBackbone.IResNet50)]
    [InlineData(IdentityBackbone.IrSe50)]
    public void Input_gradient_matches_the_oracle_and_weights_get_none(IdentityBackbone kind)
    {
        using var net = Load(kind);
        using var scope = NewDisposeScope();
        var x = Input(0).requires_grad_();
        var objective = Forward(net, x).mul(Npy(kind, "u.npy")).sum();
        objective.backward();
        AssertClose(Npy(kind, "grad_input_0.npy"), x.grad!, $"{kind} grad_input_0");
        Assert.All(net.Backbone.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void IrSe50_embeddings_have_unit_norm_and_IResNet50_embeddings_do_not()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var inputs = cat([Input(0), Input(1), Input(2)], 0);
        using (var irse = Load(IdentityBackbone.IrSe50))
        {
            var norms = linalg.vector_norm(Forward(irse, inputs), 2, [1]);
            Assert.All(norms.data<float>().ToArray(), n => Assert.Equal(1.0, n, 1e-6));
        }
        using (var iresnet = Load(IdentityBackbone.IResNet50))
        {
            var norms = linalg.vector_norm(Forward(iresnet, inputs), 2, [1]);
            Assert.All(norms.data<float>().ToArray(), n => Assert.True(Math.Abs(n - 1) > 1e-2, $"norm {n}"));
        }
    }

    [Theory]
    [InlineData(IdentityBackbone.IResNet50)]
    [InlineData(IdentityBackbone.IrSe50)]
    public void A_batch_embeds_each_image_as_alone(IdentityBackbone kind)
    {
        using var net = Load(kind);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = Forward(net, cat([Input(0), Input(1), Input(2)], 0));
        for (var i = 0; i < 3; i++)
        {
            AssertClose(Npy(kind, $"embedding_{i}.npy"), batch.narrow(0, i, 1), $"{kind} batch row {i}");
        }
    }

    [Fact]
    public void Backbones_refuse_images_that_are_not_preprocessed_112_squares()
    {
        using var net = Load(IdentityBackbone.IResNet50);
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => net.Backbone.forward(zeros(1, 3, 128, 128)));
        Assert.Contains("Embed", e.Message, StringComparison.Ordinal);
    }
}
