using Sair.Engine.IO;
using static TorchSharp.torch;

namespace Sair.Engine.Restoration;

/// <summary>
/// The one-shot reference of a job: its W+ code w_z (the start point and the prior's centre), its photo Z (whose
/// identity embedding the identity term compares against), or both. With only a photo, the restorer projects it into
/// W+ (<see cref="ReferenceInversion.Project"/>); with only a latent, the identity target is T(G(w_z)).
/// The tensors stay the caller's: a ReferenceInput neither copies nor disposes them.
/// </summary>
public sealed class ReferenceInput
{
    private ReferenceInput(Tensor? latent, Tensor? photo)
    {
        if (latent is null && photo is null)
        {
            throw new ArgumentException("A reference needs a latent w_z, a photo Z, or both.");
        }
        RequireNotEmpty(latent, "latent");
        RequireNotEmpty(photo, "photo");
        Latent = latent;
        Photo = photo;
    }

    /// <summary>w_z, (1, n_latent, style_dim) or (n_latent, style_dim).</summary>
    public Tensor? Latent { get; }

    /// <summary>Z, an RGB image (1, 3, H, W) or (3, H, W) in [0, 1], aligned like the generator's faces.</summary>
    public Tensor? Photo { get; }

    public static ReferenceInput FromLatent(Tensor latent, Tensor? photo = null) => new(latent ?? throw new ArgumentNullException(nameof(latent)), photo);

    /// <summary>A latent file (e4e .pt, .npy or .safetensors; see <see cref="LatentFile"/>). The loaded tensor is the caller's to dispose via <see cref="Latent"/>.</summary>
    public static ReferenceInput FromLatentFile(string path, Tensor? photo = null) => new(LatentFile.Load(path), photo);

    public static ReferenceInput FromInversion(ReferenceInversion inversion, Tensor? photo = null) =>
        new((inversion ?? throw new ArgumentNullException(nameof(inversion))).Latent, photo);

    public static ReferenceInput FromPhoto(Tensor photo) => new(null, photo ?? throw new ArgumentNullException(nameof(photo)));

    private static void RequireNotEmpty(Tensor? tensor, string what)
    {
        if (tensor is not null && (tensor.IsInvalid || tensor.numel() == 0))
        {
            throw new ArgumentException($"The reference {what} is empty (no elements or already disposed); pass a real {what}.");
        }
    }
}
