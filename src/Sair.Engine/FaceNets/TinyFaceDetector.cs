using Sair.Engine.FaceNets.Tfjs;
using Sair.Engine.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.FaceNets;

/// <summary>A detected face: score and box as fractions of the (square) input's side.</summary>
public sealed record FaceBox(float Score, float X, float Y, float Width, float Height);

/// <summary>
/// face-api's <c>tiny_face_detector_model</c>: a Tiny-YOLOv2 with depthwise-separable convolutions. A square RGB
/// image (NCHW, 0..255, side a multiple of 32) → a grid of side/32 cells × 5 anchors × (x, y, w, h, score) raw
/// outputs; <see cref="Detect"/> decodes them into boxes the way face-api does (sigmoid offsets, anchor-scaled
/// exponential sizes, non-maximum suppression at IoU 0.4).
/// </summary>
public sealed class TinyFaceDetector : nn.Module<Tensor, Tensor>
{
    public const string ModelName = "tiny_face_detector_model";

    /// <summary>face-api's default input side.</summary>
    public const int DefaultInputSize = 416;

    private const double IouThreshold = 0.4;

    /// <summary>Anchor box sizes in cells, one per box of a cell.</summary>
    private static readonly (double W, double H)[] Anchors =
        [(1.603231, 2.094468), (6.041143, 7.080126), (2.882459, 3.518061), (4.266906, 5.178857), (9.041765, 10.66308)];

    private static readonly float[] MeanRgb = [117.001f, 114.697f, 97.404f];

    private readonly Parameter conv0_filters;
    private readonly Parameter conv0_bias;
    private readonly SeparableConv conv1, conv2, conv3, conv4, conv5;
    private readonly Parameter conv8_filters;
    private readonly Parameter conv8_bias;

    public TinyFaceDetector(TfjsWeightMap weights) : base(nameof(TinyFaceDetector))
    {
        conv0_filters = FaceApiLayers.Frozen(TfOps.ConvFilter(weights.Get("conv0/filters", 3, 3, 3, 16)));
        conv0_bias = FaceApiLayers.Frozen(weights, "conv0/bias", 16);
        conv1 = new SeparableConv(weights, "conv1", 16, 32, 1);
        conv2 = new SeparableConv(weights, "conv2", 32, 64, 1);
        conv3 = new SeparableConv(weights, "conv3", 64, 128, 1);
        conv4 = new SeparableConv(weights, "conv4", 128, 256, 1);
        conv5 = new SeparableConv(weights, "conv5", 256, 512, 1);
        conv8_filters = FaceApiLayers.Frozen(TfOps.ConvFilter(weights.Get("conv8/filters", 1, 1, 512, 5 * Anchors.Length)));
        conv8_bias = FaceApiLayers.Frozen(weights, "conv8/bias", 5 * Anchors.Length);
        RegisterComponents();
        eval();
    }

    public static TinyFaceDetector Load(FaceModelLocator? locator = null)
    {
        using var weights = TfjsWeights.LoadManifest((locator ?? FaceModelLocator.Default()).FaceApiManifest(ModelName));
        return new TinyFaceDetector(weights);
    }

    /// <summary>(N, 3, S, S) RGB 0..255, S a multiple of 32 → raw (N, S/32, S/32, 5 anchors, 5) outputs.</summary>
    public override Tensor forward(Tensor rgb255)
    {
        var side = rgb255.dim() == 4 ? rgb255.shape[2] : 0;
        if (rgb255.dim() != 4 || rgb255.shape[1] != 3 || rgb255.shape[3] != side || side % 32 != 0 || side == 0)
        {
            throw new ArgumentException(
                $"{nameof(TinyFaceDetector)} expects a square NCHW RGB batch (N, 3, S, S), S a multiple of 32, values 0..255; " +
                $"got [{string.Join(", ", rgb255.shape)}]. Pad the image to a square and resize it (face-api uses 416).", nameof(rgb255));
        }
        using var scope = NewDisposeScope();
        var x = TfOps.FaceApiNormalise(rgb255, MeanRgb);
        // The first conv is "VALID" (the side shrinks by 2); the pools' "SAME" padding absorbs it.
        x = Leaky(EngineConv.Conv2d(x, conv0_filters, conv0_bias));
        foreach (var conv in new[] { conv1, conv2, conv3, conv4, conv5 })
        {
            x = TfOps.MaxPool(x, 2, 2, same: true);
            x = Leaky(conv.forward(x));
        }
        x = TfOps.MaxPool(x, 2, 1, same: true);
        x = EngineConv.Conv2d(x, conv8_filters, conv8_bias);
        var cells = x.shape[2];
        return x.permute(0, 2, 3, 1).reshape(-1, cells, cells, Anchors.Length, 5).MoveToOuterDisposeScope();
    }

    /// <summary>Faces in one square image (1, 3, S, S), boxes relative to the image, best first.</summary>
    public IReadOnlyList<FaceBox> Detect(Tensor rgb255, float scoreThreshold = 0.5f)
    {
        if (rgb255.dim() != 4 || rgb255.shape[0] != 1)
        {
            throw new ArgumentException("Detect takes one image (1, 3, S, S); call forward for batches.", nameof(rgb255));
        }
        using var _ = no_grad();
        using var raw = forward(rgb255);
        using var cpu = raw.cpu();
        var cells = (int)raw.shape[1];
        var values = cpu.data<float>().ToArray();
        var candidates = new List<FaceBox>();
        for (var row = 0; row < cells; row++)
        {
            for (var col = 0; col < cells; col++)
            {
                for (var a = 0; a < Anchors.Length; a++)
                {
                    var o = ((row * cells + col) * Anchors.Length + a) * 5;
                    var score = Sigmoid(values[o + 4]);
                    if (score <= scoreThreshold)
                    {
                        continue;
                    }
                    var cx = (col + Sigmoid(values[o])) / cells;
                    var cy = (row + Sigmoid(values[o + 1])) / cells;
                    var w = Math.Exp(values[o + 2]) * Anchors[a].W / cells;
                    var h = Math.Exp(values[o + 3]) * Anchors[a].H / cells;
                    candidates.Add(new FaceBox((float)score, (float)(cx - w / 2), (float)(cy - h / 2), (float)w, (float)h));
                }
            }
        }
        var kept = new List<FaceBox>();
        foreach (var box in candidates.OrderByDescending(c => c.Score))
        {
            if (kept.All(k => Iou(k, box) <= IouThreshold))
            {
                kept.Add(box);
            }
        }
        return kept;
    }

    /// <summary>face-api's leaky ReLU (slope 0.1), written as it computes it: relu(x − 0.1x) + 0.1x.</summary>
    private static Tensor Leaky(Tensor x)
    {
        var tenth = x * 0.10000000149011612;
        return F.relu(x - tenth) + tenth;
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    private static double Iou(FaceBox a, FaceBox b)
    {
        var w = Math.Max(0, Math.Min(a.X + a.Width, b.X + b.Width) - Math.Max(a.X, b.X));
        var h = Math.Max(0, Math.Min(a.Y + a.Height, b.Y + b.Height) - Math.Max(a.Y, b.Y));
        var inter = w * h;
        return inter / (a.Width * a.Height + b.Width * b.Height - inter);
    }
}
