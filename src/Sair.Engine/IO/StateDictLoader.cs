using static TorchSharp.torch;

namespace Sair.Engine.IO;

/// <summary>Strict loading of PyTorch-style state dicts into TorchSharp modules, with errors that name the file.</summary>
internal static class StateDictLoader
{
    private const int MaxListed = 20;

    /// <summary>
    /// A module's state dict in PyTorch's order (own parameters, own buffers, then children), not TorchSharp's
    /// parameters-then-buffers: what a module's <c>state_dict</c> override returns so saved files match PyTorch's.
    /// </summary>
    public static Dictionary<string, Tensor> StateDict(nn.Module module, Dictionary<string, Tensor>? destination, string? prefix)
    {
        destination ??= [];
        var keyPrefix = string.IsNullOrEmpty(prefix) ? "" : prefix + ".";
        foreach (var (key, value) in Entries(module))
        {
            destination.TryAdd(keyPrefix + key, value);
        }
        return destination;
    }

    /// <summary>
    /// The parameters and buffers of <paramref name="module"/> in PyTorch's state_dict order: a module's own
    /// parameters, then its own buffers, then each child in registration order (TorchSharp's own state_dict lists
    /// all parameters before all buffers).
    /// </summary>
    public static IEnumerable<KeyValuePair<string, Tensor>> Entries(nn.Module module, string prefix = "")
    {
        foreach (var (name, parameter) in module.named_parameters(recurse: false))
        {
            yield return new(prefix + name, parameter);
        }
        foreach (var (name, buffer) in module.named_buffers(recurse: false))
        {
            yield return new(prefix + name, buffer);
        }
        foreach (var (name, child) in module.named_children())
        {
            foreach (var entry in Entries(child, prefix + name + "."))
            {
                yield return entry;
            }
        }
    }

    /// <summary>
    /// Copies every entry of <paramref name="stateDict"/> into the same-named parameter or buffer of
    /// <paramref name="module"/> (converting dtype and device). Throws a <see cref="CheckpointException"/> naming
    /// <paramref name="sourcePath"/> and listing the missing keys, the unexpected keys and the shape mismatches
    /// when the two do not correspond exactly; nothing is copied then.
    /// </summary>
    public static void Load(nn.Module module, IEnumerable<KeyValuePair<string, Tensor>> stateDict, string sourcePath)
    {
        var expected = Entries(module).ToList();
        var given = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var duplicates = new List<string>();
        foreach (var (key, value) in stateDict)
        {
            if (!given.TryAdd(key, value))
            {
                duplicates.Add(key);
            }
        }
        var expectedKeys = expected.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        var missing = expected.Where(e => !given.ContainsKey(e.Key)).Select(e => e.Key).ToList();
        var unexpected = given.Keys.Where(k => !expectedKeys.Contains(k)).ToList();
        var mismatched = expected
            .Where(e => given.TryGetValue(e.Key, out var v) && !v.shape.SequenceEqual(e.Value.shape))
            .Select(e => $"{e.Key}: expected {Shape(e.Value.shape)}, got {Shape(given[e.Key].shape)}")
            .ToList();

        var problems = new List<string>();
        AddProblem(problems, missing, "missing key", "missing keys");
        AddProblem(problems, unexpected, "unexpected key", "unexpected keys");
        AddProblem(problems, mismatched, "shape mismatch", "shape mismatches");
        AddProblem(problems, duplicates, "duplicate key", "duplicate keys");
        if (problems.Count > 0)
        {
            throw new CheckpointException(sourcePath,
                $"does not fit the {module.GetType().Name} ({expected.Count} entries): {string.Join("; ", problems)}. " +
                "Check that the file holds this network and that its configuration (size, channels, style width, mapping depth) matches.");
        }

        using var noGrad = no_grad();
        foreach (var (key, target) in expected)
        {
            target.copy_(given[key]);
        }
    }

    private static void AddProblem(List<string> problems, List<string> items, string one, string many)
    {
        if (items.Count == 0)
        {
            return;
        }
        var listed = string.Join(", ", items.Take(MaxListed));
        var more = items.Count > MaxListed ? $", and {items.Count - MaxListed} more" : "";
        problems.Add($"{items.Count} {(items.Count == 1 ? one : many)} ({listed}{more})");
    }

    private static string Shape(long[] shape) => "(" + string.Join(", ", shape) + ")";
}
