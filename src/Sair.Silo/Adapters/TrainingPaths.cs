using Sair.Grains.Tenancy;
using Sair.Grains.Training;

namespace Sair.Silo.Adapters;

/// <summary>
/// Where a training job may read and write on an engine silo. With <see cref="SairEngineOptions.TrainingRoot"/> set (a
/// shared cluster), a client's paths are confined: the output folder lies under the runs root, the data folder and a
/// generator to fit under the data root (<see cref="SairEngineOptions.TrainingDataRoot"/>) or the runs root, no
/// symbolic link on the way or in the data leads out of them, and an output folder belongs to one job. Everything is
/// checked before anything is read or written, and a path outside the roots gets the same answer whether it exists or
/// not. A job of a tenant (a grid with tenants) is confined to that tenant's folder in each root
/// (<c>&lt;root&gt;/&lt;tenant&gt;</c>), and needs the roots. Without roots and tenants (one machine, the user's own
/// silo) the paths are the user's and pass as given.
/// </summary>
public sealed class TrainingPaths
{
    /// <summary>The file in an output folder naming the training job that owns it.</summary>
    public const string OwnerFileName = "training-job.txt";

    private readonly string? _runs;
    private readonly string? _data;
    private readonly string[] _readable;

    public TrainingPaths(string? runsRoot, string? dataRoot)
    {
        if (runsRoot is null && dataRoot is not null)
        {
            throw new ArgumentException("A data root needs a runs root.", nameof(dataRoot));
        }

        _runs = runsRoot is null ? null : Root(runsRoot);
        _data = dataRoot is null ? null : Root(dataRoot);
        _readable = [.. new[] { dataRoot, runsRoot }.OfType<string>().Select(Root)];
    }

    public static TrainingPaths From(SairEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new TrainingPaths(options.TrainingRoot, options.TrainingDataRoot);
    }

    /// <summary>
    /// Checks the job's folders and claims its output folder for it; throws <see cref="InvalidOperationException"/>
    /// with what to change.
    /// </summary>
    public void Check(TrainingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Tenant is { } tenant)
        {
            if (_runs is null)
            {
                throw new InvalidOperationException(
                    "This grid has tenants but its engine silos have no training roots (Sair:Engine:TrainingRoot): " +
                    "training jobs are refused until its operator sets them.");
            }

            TenantToken.CheckName(tenant);
            new TrainingPaths(Path.Combine(_runs, tenant), _data is null ? null : Path.Combine(_data, tenant)).Check(request with { Tenant = null });
            return;
        }

        if (_runs is null)
        {
            return;
        }

        var spec = request.Spec;
        var output = Inside(spec.OutputFolder, [_runs], "output folder", allowRoot: false);
        if (spec.DataFolder is { } data)
        {
            var folder = Inside(data, _readable, "data folder", allowRoot: true);
            NoLinkOut(folder, data);
        }

        if (spec.GeneratorPath is { } generator)
        {
            Inside(generator, _readable, "generator", allowRoot: false);
        }

        Claim(output, request.JobId, spec.OutputFolder);
    }

    private string Inside(string path, string[] roots, string what, bool allowRoot)
    {
        var full = Path.IsPathFullyQualified(path) ? Full(path) : null;
        var root = full is null ? null : roots.FirstOrDefault(r => Under(full, r, allowRoot));
        if (full is null || root is null)
        {
            throw new InvalidOperationException(
                $"The {what} '{path}' is not under {string.Join(" or ", roots)}: on this grid training jobs read data and generators " +
                $"only under {string.Join(" and ", _readable)} (Sair:Engine:TrainingDataRoot, TrainingRoot) and write only under {_runs} " +
                "(Sair:Engine:TrainingRoot), given as absolute paths.");
        }

        if (!StaysInside(full, root))
        {
            throw new InvalidOperationException($"The {what} '{path}' leads out of {root} through a symbolic link: training jobs stay under their roots.");
        }

        return full;
    }

    /// <summary>Refuses a data folder holding a symbolic link (file or folder, at any depth) whose target lies outside the roots.</summary>
    private void NoLinkOut(string folder, string given)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true };
        foreach (var entry in Directory.EnumerateFileSystemEntries(folder, "*", options))
        {
            var info = new FileInfo(entry);
            if (info.LinkTarget is not null && !_readable.Any(root => Resolved(info, root) is not null))
            {
                throw new InvalidOperationException(
                    $"The data folder '{given}' holds a symbolic link that leads out of the training roots ({Path.GetRelativePath(folder, entry)}): " +
                    "copy the images in instead.");
            }
        }
    }

    private static void Claim(string output, string jobId, string given)
    {
        var owner = Path.Combine(output, OwnerFileName);
        if (File.Exists(owner))
        {
            if (File.ReadAllText(owner).Trim() != jobId)
            {
                throw new InvalidOperationException(
                    $"The output folder '{given}' belongs to another training job: give this run a folder of its own (or resume that job by its id).");
            }

            return;
        }

        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
        {
            throw new InvalidOperationException(
                $"The output folder '{given}' already holds files no training job owns: give this run a new or empty folder.");
        }

        Directory.CreateDirectory(output);
        File.WriteAllText(owner, jobId + "\n");
    }

    /// <summary>
    /// Walks <paramref name="full"/> down from <paramref name="root"/>: every symbolic link met must resolve inside the
    /// root, its target's own path included (a link to a folder reached through another link). A cycle, or more links
    /// than the kernel follows (40), counts as leading out.
    /// </summary>
    private static bool StaysInside(string full, string root, int depth = 0)
    {
        var current = root;
        foreach (var segment in Path.GetRelativePath(root, full).Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment == ".")
            {
                continue;
            }

            current = Path.Combine(current, segment);
            var info = new FileInfo(current);
            if (info.LinkTarget is not null)
            {
                if (Resolved(info, root, depth + 1) is not { } target)
                {
                    return false;
                }

                current = target;
            }
        }

        return true;
    }

    /// <summary>The final target of <paramref name="link"/> when it, and the way to it, stay inside <paramref name="root"/>; else null.</summary>
    private static string? Resolved(FileSystemInfo link, string root, int depth = 0)
    {
        try
        {
            return depth <= 40
                && link.ResolveLinkTarget(returnFinalTarget: true) is { } target
                && Full(target.FullName) is var full
                && Under(full, root, allowRoot: true)
                && StaysInside(full, root, depth)
                ? full
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string Full(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    private static bool Under(string full, string root, bool allowRoot) =>
        full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || (allowRoot && full == root);

    /// <summary>A root as compared: absolute, without a trailing separator, and itself resolved when it is a link.</summary>
    private static string Root(string root)
    {
        var full = Full(root);
        var info = new DirectoryInfo(full);
        return info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target
            ? Full(target.FullName)
            : full;
    }
}
