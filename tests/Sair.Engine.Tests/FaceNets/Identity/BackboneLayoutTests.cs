using Sair.Engine.FaceNets.Identity;
using Sair.Engine.IO;
using static Sair.Engine.Tests.FaceNets.Identity.ArcFaceFixtures;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets.Identity;

/// <summary>State dict keys, shapes and order of both backbones against the official tables and the fixture files.</summary>
public sealed class BackboneLayoutTests
{
    private static nn.Module Build(IdentityBackbone kind, BackboneWidths widths) =>
        kind == IdentityBackbone.IResNet50 ? new IResNet50(widths) : new IrSe50(widths);

    private static List<(string Key, string Shape)> Layout(nn.Module module) =>
        StateDictLoader.Entries(module).Select(e => (e.Key, PythonShape(e.Value.shape))).ToList();

    [Fact]
    public void Full_width_IResNet50_has_the_official_keys_shapes_and_order()
    {
        var spec = SpecTable(IdentityBackbone.IResNet50);
        Assert.Equal(475, spec.Count);
        using var net = new IResNet50(BackboneWidths.Official);
        Assert.Equal(spec, Layout(net));
    }

    [Fact]
    public void Full_width_IrSe50_has_the_official_keys_and_shapes()
    {
        var spec = SpecTable(IdentityBackbone.IrSe50);
        Assert.Equal(397, spec.Count);
        using var net = new IrSe50(BackboneWidths.Official);
        var layout = Layout(net);
        // The table lists output_layer.* last while real files put it after input_layer.*: compare by name.
        Assert.Equal(spec.OrderBy(e => e.Key, StringComparer.Ordinal), layout.OrderBy(e => e.Key, StringComparer.Ordinal));
        Assert.Equal(spec.Count, layout.Select(e => e.Key).Distinct().Count());
    }

    [Theory]
    [InlineData(IdentityBackbone.IResNet50, 8, 64)]
    [InlineData(IdentityBackbone.IrSe50, 16, 128)]
    public void Reduced_widths_reproduce_the_fixture_files_keys_shapes_and_order(IdentityBackbone kind, int baseWidth, int embedding)
    {
        using var net = Build(kind, new BackboneWidths(baseWidth, embedding));
        Assert.Equal(FixtureKeys(kind), Layout(net));
    }

    [Fact]
    public void IrSe50_refuses_widths_that_leave_the_SE_bottleneck_empty()
    {
        var e = Assert.Throws<ArgumentException>(() => new IrSe50(new BackboneWidths(8, 64)));
        Assert.Contains("16", e.Message, StringComparison.Ordinal);
    }
}
