using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sair.Engine.Training;

/// <summary>
/// Differentiable Augmentation (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training") with
/// the policy 'color,translation,cutout', applied alike to real and generated images before the discriminator so that
/// D cannot memorise a small data set, while G still receives gradients through the augmentation. Every random draw
/// comes from the given generator, so a run is reproducible and resumable.
/// </summary>
internal static class DiffAugment
{
    /// <summary>Largest translation as a fraction of the side (the paper's 1/8).</summary>
    public const double TranslationRatio = 0.125;

    /// <summary>Side of the cut-out square as a fraction of the image side (the paper's 1/2).</summary>
    public const double CutoutRatio = 0.5;

    /// <summary>Colour (brightness, saturation, contrast), translation with zero fill, then cutout; images (B, 3, H, W) in [−1, 1].</summary>
    public static Tensor Apply(Tensor images, Generator rng)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(rng);
        using var scope = NewDisposeScope();
        var x = Color(images, rng);
        x = Translation(x, rng);
        x = Cutout(x, rng);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Brightness ±0.5, saturation ×[0, 2), contrast ×[0.5, 1.5), each drawn per sample.</summary>
    public static Tensor Color(Tensor x, Generator rng)
    {
        using var scope = NewDisposeScope();
        var batch = x.shape[0];
        var brightness = PerSample(batch, x, rng).sub_(0.5);
        x = x.add(brightness);
        var channelMean = x.mean([1], keepdim: true);
        x = x.sub(channelMean).mul_(PerSample(batch, x, rng).mul_(2)).add_(channelMean);
        var imageMean = x.mean([1, 2, 3], keepdim: true);
        x = x.sub(imageMean).mul_(PerSample(batch, x, rng).add_(0.5)).add_(imageMean);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Shifts each image by whole pixels in [−⌊side/8 + ½⌋, +⌊side/8 + ½⌋] per axis, filling with zeros.</summary>
    public static Tensor Translation(Tensor x, Generator rng)
    {
        using var scope = NewDisposeScope();
        var (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var shiftY = (long)(height * TranslationRatio + 0.5);
        var shiftX = (long)(width * TranslationRatio + 0.5);
        var ty = randint(-shiftY, shiftY + 1, [batch, 1, 1], generator: rng, device: x.device);
        var tx = randint(-shiftX, shiftX + 1, [batch, 1, 1], generator: rng, device: x.device);
        // Read pixel (y + ty, x + tx) of the image padded by one zero pixel; out-of-range reads land on the padding.
        var rows = arange(height, device: x.device).view(1, -1, 1).add(ty).add_(1).clamp_(0, height + 1);
        var cols = arange(width, device: x.device).view(1, 1, -1).add(tx).add_(1).clamp_(0, width + 1);
        var index = rows.mul(width + 2).add(cols).view(batch, 1, height * width).expand(-1, channels, -1);
        var padded = F.pad(x, [1, 1, 1, 1]).reshape(batch, channels, (height + 2) * (width + 2));
        return padded.gather(2, index).view(batch, channels, height, width).MoveToOuterDisposeScope();
    }

    /// <summary>Zeroes one square of side ⌊side/2 + ½⌋ per image, centred at a uniformly drawn pixel (clipped at the border).</summary>
    public static Tensor Cutout(Tensor x, Generator rng)
    {
        using var scope = NewDisposeScope();
        var (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3]);
        var sizeY = (long)(height * CutoutRatio + 0.5);
        var sizeX = (long)(width * CutoutRatio + 0.5);
        var top = randint(0, height + (1 - sizeY % 2), [batch, 1, 1], generator: rng, device: x.device).sub_(sizeY / 2);
        var left = randint(0, width + (1 - sizeX % 2), [batch, 1, 1], generator: rng, device: x.device).sub_(sizeX / 2);
        var rows = arange(height, device: x.device).view(1, -1, 1);
        var cols = arange(width, device: x.device).view(1, 1, -1);
        var insideRows = rows.ge(top).logical_and_(rows.lt(top.add(sizeY)));
        var insideCols = cols.ge(left).logical_and_(cols.lt(left.add(sizeX)));
        var keep = insideRows.logical_and(insideCols).logical_not_().to(x.dtype).unsqueeze(1);
        return x.mul(keep).MoveToOuterDisposeScope();
    }

    private static Tensor PerSample(long batch, Tensor like, Generator rng) =>
        rand([batch, 1, 1, 1], dtype: like.dtype, device: like.device, generator: rng);
}
