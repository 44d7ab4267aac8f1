using Sair.Engine.FaceNets.Identity;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets.Identity;

/// <summary>The width-reduced ArcFace oracle in shared/fixtures/arcface and the key tables in shared/spec.</summary>
internal static class ArcFaceFixtures
{
    public const string IResNetFolder = "iresnet50_div8";
    public const string IrSeFolder = "irse50_div4";

    public static string Folder(IdentityBackbone kind) => kind == IdentityBackbone.IResNet50 ? IResNetFolder : IrSeFolder;

    public static string WeightsPath(IdentityBackbone kind) =>
        RepoPaths.SharedFile("fixtures", "arcface", Folder(kind), Folder(kind) + ".pth");

    public static Tensor Npy(IdentityBackbone kind, string file) =>
        Sair.Engine.IO.Npy.Read(RepoPaths.SharedFile("fixtures", "arcface", Folder(kind), file));

    public static Tensor Input(int index) =>
        Sair.Engine.IO.Npy.Read(RepoPaths.SharedFile("fixtures", "arcface", "inputs", $"input_{index}.npy"));

    public static BackboneIdentityNetwork Load(IdentityBackbone kind) => IdentityNetworks.Load(kind, WeightsPath(kind));

    /// <summary>(key, shape) rows of a key table; shapes as written there, e.g. "(64,3,3,3)", "(64,)", "()".</summary>
    public static List<(string Key, string Shape)> KeyTable(string path, int shapeColumn = 1) =>
        File.ReadAllLines(path)
            .Skip(1)
            .Where(l => l.Length > 0)
            .Select(l => l.Split('\t'))
            .Select(f => (f[0], f[shapeColumn]))
            .ToList();

    public static List<(string Key, string Shape)> SpecTable(IdentityBackbone kind) =>
        KeyTable(RepoPaths.SharedFile("spec", kind == IdentityBackbone.IResNet50 ? "arcface_iresnet50.tsv" : "arcface_irse50.tsv"));

    /// <summary>The fixture's keys.tsv: key with the reduced shape (in the .pth's order).</summary>
    public static List<(string Key, string Shape)> FixtureKeys(IdentityBackbone kind) =>
        KeyTable(RepoPaths.SharedFile("fixtures", "arcface", Folder(kind), "keys.tsv"));

    /// <summary>A shape written as Python prints a tuple.</summary>
    public static string PythonShape(long[] shape) =>
        "(" + string.Join(",", shape) + (shape.Length == 1 ? ",)" : ")");

    /// <summary>The oracle's tolerance: max|x − ref| ≤ 1e-4 · max|ref| over the tensor.</summary>
    public static void AssertClose(Tensor reference, Tensor actual, string what, double relative = 1e-4)
    {
        Assert.True(reference.shape.SequenceEqual(actual.shape),
            $"{what}: shape ({string.Join(", ", actual.shape)}) instead of ({string.Join(", ", reference.shape)})");
        using var scope = NewDisposeScope();
        var r = reference.to(ScalarType.Float64);
        var x = actual.detach().cpu().to(ScalarType.Float64);
        var bound = relative * r.abs().max().item<double>();
        var error = (x - r).abs().max().item<double>();
        Assert.True(error <= bound, $"{what}: max |x − ref| = {error:G4} > {bound:G4}");
    }
}
