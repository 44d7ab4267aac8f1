namespace Sair.Engine.Imaging;

/// <summary>Why an input image was refused; <see cref="Reason"/> is a short machine-friendly word for reports.</summary>
public sealed class ImageLoadException : Exception
{
    public ImageLoadException(string source, string reason, string message, Exception? inner = null)
        : base($"{source}: {message}", inner)
    {
        Source = source;
        Reason = reason;
    }

    /// <summary>The file name or label of the input.</summary>
    public new string Source { get; }

    /// <summary>One of: missing, too-large, not-an-image, corrupt, too-many-pixels.</summary>
    public string Reason { get; }
}
