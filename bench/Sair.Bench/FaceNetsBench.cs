using System.Globalization;
using Sair.Engine.FaceNets;
using Sair.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Sair.Bench;

/// <summary>
/// The pretrained npm face networks at batch 1 on their native input: forward, and forward + backward to the input
/// pixels (what a loss term through the network costs an iteration). Weights are frozen, as in SAIR.
/// </summary>
internal static class FaceNetsBench
{
    private sealed record Net(string Name, Func<FaceModelLocator, nn.Module<Tensor, Tensor>> Load, long[] InputShape);

    private static readonly Net[] Nets =
    [
        new("faceapi recognition", l => FaceRecognitionNet.Load(l), [1, 3, FaceRecognitionNet.InputSize, FaceRecognitionNet.InputSize]),
        new("faceapi expression", l => FaceExpressionNet.Load(l), [1, 3, FaceExpressionNet.InputSize, FaceExpressionNet.InputSize]),
        new("faceapi landmarks68", l => FaceLandmark68Net.Load(l), [1, 3, FaceLandmark68Net.InputSize, FaceLandmark68Net.InputSize]),
        new("faceapi tiny detector", l => TinyFaceDetector.Load(l), [1, 3, TinyFaceDetector.DefaultInputSize, TinyFaceDetector.DefaultInputSize]),
        new("human faceres", l => FaceResNet.Load(l), [1, 3, FaceResNet.InputSize, FaceResNet.InputSize]),
        new("human emotion", l => HumanEmotionNet.Load(l), [1, 1, HumanEmotionNet.InputSize, HumanEmotionNet.InputSize]),
    ];

    public static int Run(BenchArgs args)
    {
        var runs = args.Int("runs", 5);
        var threads = args.Int("threads", Environment.ProcessorCount);
        var models = args.String("models", "");
        var locator = models.Length > 0 ? new FaceModelLocator(models) : FaceModelLocator.Default();
        var device = TorchRuntime.ResolveDevice(args.String("device", "cpu"));
        var runtime = TorchRuntime.EnsureLoaded();
        set_num_threads(threads);
        manual_seed(0);

        Console.WriteLine($"# face networks benchmark: {runtime} (running on {get_num_threads()} threads), device {device}, batch 1, median of {runs} runs after 1 warm-up");
        Console.WriteLine();
        Console.WriteLine("| network | input | forward ms | forward+backward ms | f+b / forward |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var net in Nets)
        {
            using var module = net.Load(locator);
            module.to(device);
            foreach (var parameter in module.parameters())
            {
                parameter.requires_grad_(false);
            }
            // Real-looking pixel ranges: 0..255 for the face-api and faceres inputs, [−1, 1] grey for the emotion net.
            using var input = net.InputShape[1] == 1 ? rand(net.InputShape, device: device) * 2 - 1 : rand(net.InputShape, device: device) * 255;
            var forward = Timing.MedianSeconds(runs, () =>
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                module.forward(input).sum().item<float>();
            });
            var both = Timing.MedianSeconds(runs, () =>
            {
                using var scope = NewDisposeScope();
                var pixels = input.detach().requires_grad_(true);
                module.forward(pixels).square().sum().backward();
                pixels.grad!.sum().item<float>();
            });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {net.Name} | {string.Join("×", net.InputShape.Skip(1))} | {forward * 1e3:0.0} | {both * 1e3:0.0} | {both / forward:0.00} |"));
        }
        return 0;
    }
}
