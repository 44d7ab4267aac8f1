using Sair.Grains;

namespace Sair.Silo.Hosting;

/// <summary>Where the grid keeps membership, grain state, reminders and images (section "Sair:Storage").</summary>
public sealed class SairStorageOptions
{
    public const string Section = SettingKeys.Storage;

    public const string LocalProvider = "local";
    public const string AzureProvider = "azure";

    /// <summary>
    /// "local": one machine, localhost clustering, state and reminders as files under <see cref="DataRoot"/>.
    /// "azure": Azure Table clustering, state and reminders, images in Blob Storage (Azurite in development).
    /// </summary>
    public string Provider { get; set; } = LocalProvider;

    /// <summary>Azure Storage connection string (provider "azure"); keep it in a secret (Sair__Storage__ConnectionString).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Folder of grain state and the reminder table (provider "local").</summary>
    public string DataRoot { get; set; } = "sair-data";

    /// <summary>Blob container of the image store (provider "azure").</summary>
    public string ImageContainer { get; set; } = "sair-images";
}
