using System.Globalization;
using static TorchSharp.torch;

namespace Sair.Engine.IO;

/// <summary>
/// A weights file read into CPU tensors without Python: a torch zip checkpoint (<c>torch.save</c>, torch ≥ 1.6) or a
/// safetensors file, told apart by content rather than extension.
/// </summary>
internal sealed class WeightsFile : IDisposable
{
    private readonly List<Tensor> _owned;

    private WeightsFile(string path, string format, object? root, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, List<Tensor> owned)
    {
        Path = path;
        Format = format;
        Root = root;
        Tensors = tensors;
        _owned = owned;
    }

    public string Path { get; }

    /// <summary>"torch" or "safetensors".</summary>
    public string Format { get; }

    /// <summary>The unpickled object graph (see <see cref="PickleDict"/> for how Python values appear); for safetensors,
    /// a <see cref="PickleDict"/> of name → tensor.</summary>
    public object? Root { get; }

    /// <summary>Every tensor reachable through nested dicts and lists, keyed by the dotted path to it in file order
    /// (<c>g_ema.style.1.weight</c>, <c>latent_avg</c>); a bare tensor at the root has the key "".</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors { get; }

    /// <summary>The tensor with this dotted key, or a clear error naming the file and some keys it does hold.</summary>
    public Tensor this[string key] =>
        Tensors.FirstOrDefault(t => t.Key == key).Value
        ?? throw new CheckpointException(Path, $"holds no tensor '{key}' (it holds {Tensors.Count}, e.g. {string.Join(", ", Tensors.Take(5).Select(t => $"'{t.Key}'"))}).");

    public static WeightsFile Open(string path)
    {
        CheckpointException.ThrowIfMissing(path, "weights");
        var head = new byte[512];
        int read;
        using (var stream = File.OpenRead(path))
        {
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        var kind = Sniff(head.AsSpan(0, read));
        switch (kind)
        {
            case "zip":
            {
                var (root, owned) = TorchArchive.Load(path);
                try
                {
                    return new WeightsFile(path, "torch", root, Flatten(root, path), owned);
                }
                catch
                {
                    owned.ForEach(t => t.Dispose());
                    throw;
                }
            }
            case "safetensors":
            {
                var (tensors, _) = Safetensors.Read(path);
                var root = new PickleDict();
                foreach (var (name, tensor) in tensors)
                {
                    root[name] = tensor;
                }
                return new WeightsFile(path, "safetensors", root, tensors, tensors.Select(t => t.Value).ToList());
            }
            default:
                throw new CheckpointException(path, kind);
        }
    }

    /// <summary>"zip", "safetensors", or the reason the file is neither.</summary>
    internal static string Sniff(ReadOnlySpan<byte> head)
    {
        if (head.Length == 0)
        {
            return "the file is empty.";
        }
        if (head.StartsWith("PK\x03\x04"u8) || head.StartsWith("PK\x05\x06"u8))
        {
            return "zip";
        }
        if (Safetensors.LooksLike(head))
        {
            return "safetensors";
        }
        // torch < 1.6 wrote a pickle stream (PROTO 2, then a magic number); torch < 0.4 wrote a tar archive.
        if ((head[0] == 0x80 && head.Length > 1 && head[1] <= 5) || (head.Length >= 262 && head[257..262].SequenceEqual("ustar"u8)))
        {
            return "is a legacy (pre-1.6, non-zip) torch file or a bare pickle, which is not supported; " +
                "re-save it with torch >= 1.6 (torch.save(obj, path)) or convert it to safetensors.";
        }
        var what = head switch
        {
            [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "a PNG image",
            [0xff, 0xd8, 0xff, ..] => "a JPEG image",
            [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', ..] => "a NumPy .npy array",
            [0x1f, 0x8b, ..] => "a gzip file",
            _ when head.IndexOfAnyExceptInRange((byte)0x09, (byte)0x7e) < 0 => "a text file",
            _ => $"unknown data (starts {Convert.ToHexString(head[..Math.Min(8, head.Length)])})",
        };
        return $"is not a checkpoint: it looks like {what}, not a torch zip checkpoint (.pt/.pth) or a safetensors file.";
    }

    /// <summary>Dotted keys the way state_dict() names nested modules: dict keys, and list/tuple indices.</summary>
    private static List<KeyValuePair<string, Tensor>> Flatten(object? root, string path)
    {
        const int MaxDepth = 200;
        var result = new List<KeyValuePair<string, Tensor>>();
        var open = new HashSet<object>(ReferenceEqualityComparer.Instance);
        Visit(root, "", 0);
        return result;

        void Visit(object? value, string key, int depth)
        {
            if (depth > MaxDepth)
            {
                throw new CheckpointException(path, $"the object graph is nested more than {MaxDepth} levels deep (at '{key}'); this is not a weights checkpoint.");
            }
            switch (value)
            {
                case Tensor tensor:
                    result.Add(new(key, tensor));
                    break;
                case PickleDict dict when open.Add(dict):
                    foreach (var (k, v) in dict)
                    {
                        Visit(v, Join(key, Convert.ToString(k, CultureInfo.InvariantCulture) ?? ""), depth + 1);
                    }
                    open.Remove(dict);
                    break;
                case IList<object?> list when open.Add(list):
                    for (var i = 0; i < list.Count; i++)
                    {
                        Visit(list[i], Join(key, i.ToString(CultureInfo.InvariantCulture)), depth + 1);
                    }
                    open.Remove(list);
                    break;
            }
        }

        static string Join(string prefix, string key) => prefix.Length == 0 ? key : $"{prefix}.{key}";
    }

    public void Dispose()
    {
        foreach (var tensor in _owned)
        {
            tensor.Dispose();
        }
        _owned.Clear();
    }
}
