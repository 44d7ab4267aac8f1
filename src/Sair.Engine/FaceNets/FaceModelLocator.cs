namespace Sair.Engine.FaceNets;

/// <summary>
/// Finds the pretrained face networks installed from npm (models/package.json pins the packages). The models
/// directory is the npm <c>node_modules</c> folder: an explicit path, or <see cref="Default"/>'s choice.
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

    /// <summary>
    /// The models directory of this build: <c>$SAIR_MODELS</c> when set; else <c>models/node_modules</c> beside the
    /// application when it is there (the container images' layout, <c>/app/models/node_modules</c>); else the
    /// repository's <c>models/node_modules</c> this assembly was built from (stamped by the build, so a binary copied
    /// elsewhere on the build machine still finds it). Nothing walks the directory tree.
    /// </summary>
    public static FaceModelLocator Default() => new(Choose(
        Environment.GetEnvironmentVariable(EnvironmentVariable), AppContext.BaseDirectory, BuiltRepositoryModels));

    /// <summary>The repository's <c>models/node_modules</c> stamped into this assembly by the build, if any.</summary>
    public static string? BuiltRepositoryModels { get; } = typeof(FaceModelLocator).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == BuildMetadataKey)?.Value;

    /// <summary>The assembly metadata key the build stamps the repository's models folder under.</summary>
    internal const string BuildMetadataKey = "Sair.ModelsDirectory";

    /// <summary><see cref="Default"/>'s choice, given the environment variable, the application folder and the stamped folder.</summary>
    internal static string Choose(string? environment, string applicationDirectory, string? builtRepository)
    {
        if (!string.IsNullOrWhiteSpace(environment))
        {
            return environment;
        }
        var beside = Path.Combine(applicationDirectory, "models", "node_modules");
        if (Directory.Exists(beside) || string.IsNullOrWhiteSpace(builtRepository))
        {
            return beside;
        }
        return builtRepository;
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
