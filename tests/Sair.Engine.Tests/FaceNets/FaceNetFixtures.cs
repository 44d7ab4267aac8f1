using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Sair.Engine.FaceNets;
using static TorchSharp.torch;

namespace Sair.Engine.Tests.FaceNets;

/// <summary>The golden inputs and outputs of shared/fixtures/facenets (computed by tfjs 4.22 with the npm models).</summary>
internal static class FaceNetFixtures
{
    private static readonly Lazy<JsonObject> Manifest = new(() =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(RepoPaths.SharedFile("fixtures", "facenets", "manifest.json")))!);

    /// <summary>Every fixture entry's id (one per source photo).</summary>
    public static IEnumerable<object[]> EntryIds() => Entries().Select(e => new object[] { e["id"]!.GetValue<string>() });

    /// <summary>An input tensor of entry <paramref name="id"/> (key such as "faceapi_input150"), converted from NHWC to NCHW.</summary>
    public static Tensor InputNchw(string id, string key)
    {
        var spec = Entry(id)[key]!;
        var shape = spec["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
        using var nhwc = tensor(ReadFloats(spec["file"]!.GetValue<string>()), shape);
        return nhwc.permute(0, 3, 1, 2).contiguous();
    }

    /// <summary>The reference output <paramref name="key"/> (such as "faceapi_recognition_128") of entry <paramref name="id"/>, flattened.</summary>
    public static float[] Output(string id, string key) => ReadFloats(Entry(id)["outputs"]![key]!["file"]!.GetValue<string>());

    /// <summary>Asserts |x − r| ≤ 1e-4·max(1, max|r|) element-wise, reporting the worst element.</summary>
    public static void AssertClose(float[] expected, Tensor actual, string what)
    {
        var got = actual.detach().cpu().contiguous().data<float>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        var tolerance = 1e-4 * Math.Max(1.0, expected.Max(v => Math.Abs((double)v)));
        var worst = Enumerable.Range(0, got.Length).MaxBy(i => Math.Abs((double)got[i] - expected[i]));
        var error = Math.Abs((double)got[worst] - expected[worst]);
        Assert.True(error <= tolerance,
            $"{what}: element {worst} is {got[worst]}, reference {expected[worst]} (|error| {error:E2} > tolerance {tolerance:E2}).");
    }

    /// <summary>
    /// An output of face-api's own runtime that the shared fixtures lack ("landmarks68", "tinyFaceDetector"),
    /// from Oracle/faceapi-oracle.json (written by Oracle/make-oracle.mjs from the same shared inputs).
    /// </summary>
    public static float[] FaceApiOracle(string id, string key)
    {
        var entry = OracleFile.Value["entries"]!.AsArray().Single(e => e!["id"]!.GetValue<string>() == id)!;
        return entry[key]!["values"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
    }

    private static readonly Lazy<JsonObject> OracleFile = new(() =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "Sair.Engine.Tests", "FaceNets", "Oracle", "faceapi-oracle.json")))!);

    private static JsonObject Entry(string id) => Entries().Single(e => e["id"]!.GetValue<string>() == id);

    private static IEnumerable<JsonObject> Entries() => Manifest.Value["entries"]!.AsArray().Select(e => (JsonObject)e!);

    private static float[] ReadFloats(string file) =>
        MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(RepoPaths.SharedFile("fixtures", "facenets", file))).ToArray();
}

/// <summary>The npm face models the tests need; a missing install fails the test with the command that fixes it.</summary>
internal static class InstalledFaceModels
{
    public static FaceModelLocator Locator
    {
        get
        {
            var dir = Path.Combine(RepoPaths.Root, "models", "node_modules");
            if (!Directory.Exists(Path.Combine(dir, "@vladmandic", "face-api")) || !Directory.Exists(Path.Combine(dir, "@vladmandic", "human")))
            {
                Assert.Fail($"The npm face models are not installed in {dir}: run bash models/install.sh (from the repository root).");
            }
            return new FaceModelLocator(dir);
        }
    }

    private static readonly Lazy<FaceRecognitionNet> RecognitionLazy = new(() => FaceRecognitionNet.Load(Locator));
    private static readonly Lazy<FaceExpressionNet> ExpressionLazy = new(() => FaceExpressionNet.Load(Locator));
    private static readonly Lazy<FaceLandmark68Net> LandmarksLazy = new(() => FaceLandmark68Net.Load(Locator));
    private static readonly Lazy<FaceResNet> FaceResLazy = new(() => FaceResNet.Load(Locator));
    private static readonly Lazy<TinyFaceDetector> DetectorLazy = new(() => TinyFaceDetector.Load(Locator));
    private static readonly Lazy<HumanEmotionNet> EmotionLazy = new(() => HumanEmotionNet.Load(Locator));

    /// <summary>Loaded once per test run: the nets are read-only and their weights take a while to decode.</summary>
    public static FaceRecognitionNet Recognition => RecognitionLazy.Value;

    public static FaceExpressionNet Expression => ExpressionLazy.Value;

    public static FaceLandmark68Net Landmarks => LandmarksLazy.Value;

    public static FaceResNet FaceRes => FaceResLazy.Value;

    public static TinyFaceDetector Detector => DetectorLazy.Value;

    public static HumanEmotionNet Emotion => EmotionLazy.Value;
}
