"""Times the reference PyTorch StyleGAN2 generator's forward + backward to W+ on the CPU, for `bench ratios`.

The reference code is rosinality's stylegan2-pytorch (the code the SAIR authors build on); it is not part of this
repository: pass the folder holding its model.py with --code. Its `op` package compiles CUDA extensions when imported,
which a CPU-only machine cannot do, so this script puts a CPU stand-in for `op` in front of it (written here from
what the operators compute: bias + leaky ReLU scaled by sqrt(2), upsample-FIR-downsample, plain conv2d /
conv_transpose2d); the generator's own layers are the reference's.

Measures what `bench ratios` measures on the engine: a random-weight generator (config-f channel table), batch 1, the
mean latent as W+, the gradient of mean(G(w)²) with respect to w only, median of --runs after one warm-up; prints one
JSON line. Run with Debian's PyTorch: /usr/bin/python3 generator_seconds.py --code DIR --size 256.
"""

import argparse
import json
import math
import statistics
import sys
import time
import types


def cpu_op_module(torch, F):
    """A stand-in for rosinality's `op` package that runs on the CPU (same names and signatures)."""
    op = types.ModuleType("op")

    def fused_leaky_relu(x, bias=None, negative_slope=0.2, scale=math.sqrt(2)):
        if bias is not None:
            x = x + bias.view(1, bias.shape[0], *([1] * (x.dim() - 2)))
        return F.leaky_relu(x, negative_slope) * scale

    class FusedLeakyReLU(torch.nn.Module):
        def __init__(self, channel, bias=True, negative_slope=0.2, scale=math.sqrt(2)):
            super().__init__()
            self.bias = torch.nn.Parameter(torch.zeros(channel)) if bias else None
            self.negative_slope = negative_slope
            self.scale = scale

        def forward(self, x):
            return fused_leaky_relu(x, self.bias, self.negative_slope, self.scale)

    def upfirdn2d(x, kernel, up=1, down=1, pad=(0, 0)):
        # pad: (x0, x1) for both axes, or (x0, x1, y0, y1).
        x0, x1, y0, y1 = (pad[0], pad[1], pad[0], pad[1]) if len(pad) == 2 else pad
        b, c, h, w = x.shape
        x = x.reshape(b * c, 1, h, w)
        if up > 1:
            # Zero insertion: each pixel followed by up - 1 zeros along both axes.
            x = x.reshape(b * c, 1, h, 1, w, 1)
            x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
            x = x.reshape(b * c, 1, h * up, w * up)
        x = F.pad(x, [max(x0, 0), max(x1, 0), max(y0, 0), max(y1, 0)])
        x = x[:, :, max(-y0, 0): x.shape[2] - max(-y1, 0), max(-x0, 0): x.shape[3] - max(-x1, 0)]
        k = torch.flip(kernel, [0, 1]).view(1, 1, kernel.shape[0], kernel.shape[1]).to(x.dtype)
        x = F.conv2d(x, k)
        x = x[:, :, ::down, ::down]
        return x.reshape(b, c, x.shape[2], x.shape[3])

    gradfix = types.ModuleType("op.conv2d_gradfix")
    gradfix.conv2d = lambda input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1: F.conv2d(
        input, weight, bias, stride, padding, dilation, groups)
    gradfix.conv_transpose2d = lambda input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1: \
        F.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)

    op.FusedLeakyReLU = FusedLeakyReLU
    op.fused_leaky_relu = fused_leaky_relu
    op.upfirdn2d = upfirdn2d
    op.conv2d_gradfix = gradfix
    return op, gradfix


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", required=True, help="folder holding rosinality's model.py")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch
    from torch.nn import functional as F

    torch.set_num_threads(args.threads)
    op, gradfix = cpu_op_module(torch, F)
    sys.modules["op"] = op
    sys.modules["op.conv2d_gradfix"] = gradfix
    sys.path.insert(0, args.code)
    from model import Generator  # the reference generator

    torch.manual_seed(0)
    g = Generator(args.size, 512, 8, channel_multiplier=2).eval()
    with torch.no_grad():
        w = g.mean_latent(256).view(1, 1, -1).repeat(1, g.n_latent, 1)

    def step():
        latent = w.clone().requires_grad_(True)
        image, _ = g([latent], input_is_latent=True, randomize_noise=False)
        grad, = torch.autograd.grad(image.square().mean(), [latent])
        return float(grad.sum())

    step()
    seconds = []
    for _ in range(args.runs):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({
        "seconds": statistics.median(seconds),
        "runs": seconds,
        "size": args.size,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
