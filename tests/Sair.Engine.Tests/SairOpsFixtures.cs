using System.Collections.Concurrent;
using System.Text.Json;
using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.Tests;

/// <summary>
/// The official-operator oracles in shared/fixtures/sair-ops: arrays, scalars and the tolerances of manifest.json
/// (|port − oracle| ≤ atol + rtol·|oracle|).
/// </summary>
internal static class SairOpsFixtures
{
    private static readonly Lazy<JsonDocument> Manifest = new(() =>
        JsonDocument.Parse(File.ReadAllText(RepoPaths.SharedFile("fixtures", "sair-ops", "manifest.json"))));

    // The 1024×1024 arrays are read once for all the tests that use them.
    private static readonly ConcurrentDictionary<string, Tensor> Cache = new();

    /// <summary>An array of the fixture set, read fresh (the caller disposes it).</summary>
    public static Tensor Load(string file) => Npy.Read(RepoPaths.SharedFile("fixtures", "sair-ops", file));

    /// <summary>An array kept for the whole test run; do not dispose or modify it.</summary>
    public static Tensor Shared(string file) => Cache.GetOrAdd(file, f => Load(f).DetachFromDisposeScope());

    public static double Scalar(string name) => Entry("scalars", name).GetProperty("value").GetDouble();

    public static double[] ScalarList(string name) =>
        Entry("scalars", name).GetProperty("value").EnumerateArray().Select(v => v.GetDouble()).ToArray();

    /// <summary>Names of every file and scalar of the manifest that carries a tolerance, i.e. every oracle.</summary>
    public static IEnumerable<string> Oracles() =>
        new[] { "files", "scalars" }.SelectMany(section => Manifest.Value.RootElement.GetProperty(section).EnumerateObject())
            .Where(e => e.Value.TryGetProperty("tolerance", out var t) && t.ValueKind == JsonValueKind.Object)
            .Select(e => e.Name);

    public static (double Atol, double Rtol) FileTolerance(string file) => Tolerance(Entry("files", file));

    public static (double Atol, double Rtol) ScalarTolerance(string name) => Tolerance(Entry("scalars", name));

    /// <summary>Asserts a tensor against a fixture file with that file's tolerance, reporting the worst element.</summary>
    public static void AssertMatches(Tensor actual, string file, Tensor? expected = null)
    {
        var owned = expected is null;
        var oracle = expected ?? Load(file);
        try
        {
            AssertClose(actual, oracle, FileTolerance(file), file);
        }
        finally
        {
            if (owned)
            {
                oracle.Dispose();
            }
        }
    }

    public static void AssertClose(Tensor actual, Tensor expected, (double Atol, double Rtol) tolerance, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var a = actual.detach().to(ScalarType.Float64).cpu();
        using var e = expected.to(ScalarType.Float64);
        using var excess = (a - e).abs() - (tolerance.Atol + tolerance.Rtol * e.abs());
        var worst = excess.argmax().item<long>();
        var worstExcess = excess.flatten()[worst].item<double>();
        Assert.True(worstExcess <= 0,
            $"{what}: element {worst} is {a.flatten()[worst].item<double>():R}, oracle {e.flatten()[worst].item<double>():R}; " +
            $"outside atol {tolerance.Atol} + rtol {tolerance.Rtol} by {worstExcess:G3}.");
    }

    public static void AssertScalar(double actual, string name)
    {
        var (atol, rtol) = ScalarTolerance(name);
        var expected = Scalar(name);
        Assert.True(Math.Abs(actual - expected) <= atol + rtol * Math.Abs(expected),
            $"{name}: got {actual:R}, oracle {expected:R} (atol {atol}, rtol {rtol}).");
    }

    private static JsonElement Entry(string section, string name) =>
        Manifest.Value.RootElement.GetProperty(section).TryGetProperty(name, out var e)
            ? e
            : throw new KeyNotFoundException($"manifest.json has no {section} entry '{name}'.");

    private static (double, double) Tolerance(JsonElement entry)
    {
        var t = entry.GetProperty("tolerance");
        if (t.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidOperationException("This fixture entry has no tolerance: it is an input, not an oracle.");
        }
        var atol = t.TryGetProperty("atol", out var a) ? a.GetDouble() : 0;
        var rtol = t.TryGetProperty("rtol", out var r) ? r.GetDouble() : 0;
        return (atol, rtol);
    }
}
