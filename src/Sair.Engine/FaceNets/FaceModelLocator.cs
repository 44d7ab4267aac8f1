namespace Sair.Engine.FaceNets;

/// <summary>
/// Finds the pretrained face networks installed from npm (models/package.json pins the packages). The models
/// directory is the npm <c>node_modules</c> folder: an explicit path, else <c>$SAIR_MODELS</c>, else
/// <c>models/node_modules</c> of the first folder above the application's base directory that has <c>models/package.json</c>.
/// </summary>
public sealed class FaceModelLocator
{
    /// <summary>Environment variable naming the models directory (the node_modules folder, or the folder holding it).</summary>
    public const string EnvironmentVariable = "SAIR_MODELS";

    /// <summary>The command, run from the repository root, that installs the models.</summary>
    public const string InstallCommand = "bash models/install.sh";

    private const string FaceApiModels = "@vladmandic/face-api/model";
    private const string HumanModels = "@vladmandic/human/models";

    /// <summary>A locator for an explicit models directory (node_modules, or a folder that holds node_modules).</summary>
    public FaceModelLocator(string modelsDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelsDirectory);
        var full = Path.GetFullPath(modelsDirectory);
        var nested = Path.Combine(full, "node_modules");
        ModelsDirectory = Directory.Exists(nested) ? nested : full;
    }

    /// <summary>The folder that holds the npm packages (<c>@vladmandic/…</c>).</summary>
    public string ModelsDirectory { get; }

    /// <summary>The locator from <c>$SAIR_MODELS</c>, else from the repository above the application's base directory.</summary>
    public static FaceModelLocator Default()
    {
        var fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return new FaceModelLocator(fromEnv);
        }
        return new FaceModelLocator(Discover(AppContext.BaseDirectory)
            ?? Path.Combine(AppContext.BaseDirectory, "models", "node_modules"));
    }

    /// <summary><c>models/node_modules</c> of the first folder at or above <paramref name="start"/> with <c>models/package.json</c>.</summary>
    public static string? Discover(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "models", "package.json")))
            {
                return Path.Combine(dir.FullName, "models", "node_modules");
            }
        }
        return null;
    }

    /// <summary>The weights manifest of a face-api model, e.g. <c>face_recognition_model</c>.</summary>
    public string FaceApiManifest(string modelName) => Resolve($"{FaceApiModels}/{modelName}-weights_manifest.json");

    /// <summary>The graph model (model.json layout) of a Human model, e.g. <c>faceres</c>.</summary>
    public string HumanGraphModel(string modelName) => Resolve($"{HumanModels}/{modelName}.json");

    /// <summary>The full path of a file under the models directory; throws, naming the file and the install command, when it is missing.</summary>
    public string Resolve(string relativePath)
    {
        var path = Path.GetFullPath(Path.Combine(ModelsDirectory, relativePath));
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"Face model file '{path}' is missing. Install the models with '{InstallCommand}' (run from the repository root), " +
                $"or point ${EnvironmentVariable} at a node_modules folder that holds them.", path);
        }
        return path;
    }
}
