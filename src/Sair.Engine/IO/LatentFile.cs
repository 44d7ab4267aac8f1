using static TorchSharp.torch;

namespace Sair.Engine.IO;

/// <summary>
/// W+ latent codes on disk: a bare tensor saved by torch (the format e4e writes, e.g. <c>obama_latents.pt</c>),
/// a .npy array, or a safetensors file holding one tensor.
/// </summary>
public static class LatentFile
{
    /// <summary>Loads a latent as a float32 CPU tensor of shape (1, n_latent, style_dim); a (n_latent, style_dim) array gets
    /// the batch dimension added. The expected sizes, when given, are checked.</summary>
    public static Tensor Load(string path, int? expectedLatents = null, int? expectedStyleDim = null)
    {
        CheckpointException.ThrowIfMissing(path, "latent");
        using var raw = ReadSingleTensor(path);
        if (!raw.is_floating_point())
        {
            throw new CheckpointException(path, $"the latent has dtype {raw.dtype}; a W+ latent holds floating-point numbers.");
        }
        var shape = raw.shape;
        var described = $"({string.Join(", ", shape)})";
        if (shape.Length is not (2 or 3) || (shape.Length == 3 && shape[0] != 1))
        {
            throw new CheckpointException(path,
                $"the latent has shape {described}; a W+ latent is (1, n_latent, style_dim) or (n_latent, style_dim), one image per file.");
        }
        var (latents, styleDim) = (shape[^2], shape[^1]);
        if ((expectedLatents is { } n && latents != n) || (expectedStyleDim is { } d && styleDim != d))
        {
            throw new CheckpointException(path,
                $"the latent has shape {described} but this generator needs (1, {expectedLatents?.ToString() ?? "n_latent"}, " +
                $"{expectedStyleDim?.ToString() ?? "style_dim"}); was it made for a different resolution or generator?");
        }
        using var scope = NewDisposeScope();
        var latent = raw.to_type(ScalarType.Float32).reshape(1, latents, styleDim).contiguous().clone();
        if (!latent.isfinite().all().item<bool>())
        {
            throw new CheckpointException(path, "the latent holds NaN or infinite values.");
        }
        return latent.MoveToOuterDisposeScope();
    }

    /// <summary>Saves a latent as float32, chosen by extension: .npy, or .safetensors (one tensor named "latent").</summary>
    public static void Save(string path, Tensor latent)
    {
        using var scope = NewDisposeScope();
        var data = latent.detach().cpu().to_type(ScalarType.Float32).contiguous();
        switch (System.IO.Path.GetExtension(path).ToLowerInvariant())
        {
            case ".npy":
                Npy.Write(path, data);
                break;
            case ".safetensors":
                Safetensors.Write(path, [new("latent", data)], new Dictionary<string, string> { ["format"] = "pt" });
                break;
            default:
                throw new ArgumentException($"'{path}': save latents as .npy or .safetensors.", nameof(path));
        }
    }

    /// <summary>The file's only tensor, as a tensor the caller owns.</summary>
    private static Tensor ReadSingleTensor(string path)
    {
        Span<byte> head = stackalloc byte[6];
        using (var stream = File.OpenRead(path))
        {
            head = head[..stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
        }
        if (head is [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'])
        {
            return Npy.Read(path);
        }
        using var file = WeightsFile.Open(path);
        if (file.Tensors.Count != 1)
        {
            throw new CheckpointException(path,
                $"holds {file.Tensors.Count} tensors ({string.Join(", ", file.Tensors.Take(4).Select(t => $"'{t.Key}'"))}); a latent file holds exactly one.");
        }
        return file.Tensors[0].Value.clone();
    }
}
