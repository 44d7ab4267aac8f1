using System.IO.Compression;
using System.Text;
using static TorchSharp.torch;

namespace Sair.Engine.IO;

/// <summary>One storage of a torch zip checkpoint: the <c>&lt;prefix&gt;/data/&lt;key&gt;</c> record, read once, on first use.</summary>
internal sealed class TorchStorage(string key, ScalarType dtype, long numel, Func<TorchStorage, Tensor> load) : IDisposable
{
    private Tensor? _data;

    public string Key { get; } = key;

    public ScalarType DType { get; } = dtype;

    public long Numel { get; } = numel;

    /// <summary>The storage as a flat CPU tensor; tensors are views of it.</summary>
    public Tensor Data => _data ??= load(this);

    /// <summary>Releases this handle; views made from it keep the memory alive for as long as they live.</summary>
    public void Dispose() => _data?.Dispose();
}

/// <summary>
/// The container <c>torch.save</c> writes since torch 1.6: a zip whose entries share one prefix directory, holding
/// <c>data.pkl</c> (the object graph), <c>data/&lt;key&gt;</c> (raw little-endian storages), <c>version</c> and,
/// from torch 2.1, <c>byteorder</c>.
/// </summary>
internal static class TorchArchive
{
    private const string ResaveAdvice = "re-save it with torch >= 1.6 (torch.save(obj, path)) or convert it to safetensors";

    /// <summary>Loads the object graph of a torch zip checkpoint, with every tensor on the CPU.</summary>
    public static (object? Root, List<Tensor> Tensors) Load(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointException(path, $"the zip archive is truncated or damaged ({e.Message}); copy or download the file again.", e);
        }
        using (zip)
        {
            var prefix = FindPrefix(zip, path);
            CheckByteOrder(zip, prefix, path);
            var pickle = ReadAll(zip, prefix + "data.pkl", path);

            var storages = new Dictionary<string, TorchStorage>();
            var unpickler = new Unpickler(pickle, path, id => Storage(id, storages, zip, prefix, path), prefix + "data.pkl");
            try
            {
                return (unpickler.Load(), unpickler.Tensors);
            }
            catch
            {
                foreach (var tensor in unpickler.Tensors)
                {
                    tensor.Dispose();
                }
                throw;
            }
            finally
            {
                foreach (var storage in storages.Values)
                {
                    storage.Dispose();
                }
            }
        }
    }

    /// <summary>The directory holding <c>data.pkl</c>; torch names it after the file it first saved to, so it
    /// says nothing about the current file name.</summary>
    private static string FindPrefix(ZipArchive zip, string path)
    {
        var candidates = zip.Entries
            .Select(e => e.FullName)
            .Where(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/') == n.Length - "/data.pkl".Length)
            .ToList();
        return candidates.Count switch
        {
            1 => candidates[0][..^"data.pkl".Length],
            0 => throw new CheckpointException(path,
                "is a zip archive but not a torch checkpoint (no '<name>/data.pkl' entry); save weights with torch.save(obj, path) or as safetensors."),
            _ => throw new CheckpointException(path, $"holds several torch archives ({string.Join(", ", candidates)}); save one object per file."),
        };
    }

    private static void CheckByteOrder(ZipArchive zip, string prefix, string path)
    {
        if (zip.GetEntry(prefix + "byteorder") is null)
        {
            return; // torch < 2.1 writes none; those files are little-endian
        }
        var order = Encoding.ASCII.GetString(ReadAll(zip, prefix + "byteorder", path)).Trim();
        if (order != "little")
        {
            throw new CheckpointException(path,
                $"the checkpoint was written with '{order}' byte order; only 'little' is supported. Re-save it on a little-endian machine.");
        }
    }

    private static byte[] ReadAll(ZipArchive zip, string entryName, string path)
    {
        var entry = zip.GetEntry(entryName) ?? throw new CheckpointException(path, $"the record '{entryName}' is missing from the archive.");
        try
        {
            using var input = entry.Open();
            using var buffer = new MemoryStream(checked((int)entry.Length));
            input.CopyTo(buffer);
            return buffer.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointException(path, $"the record '{entryName}' is damaged ({e.Message}).", e);
        }
    }

    /// <summary>Resolves a persistent id <c>('storage', torch.FloatStorage, key, location, numel)</c>.</summary>
    private static TorchStorage Storage(object? id, Dictionary<string, TorchStorage> storages, ZipArchive zip, string prefix, string path)
    {
        if (id is not object?[] { Length: 5 } tuple || tuple[0] is not "storage" || tuple[1] is not PickleGlobal type
            || tuple[2] is not string key || tuple[4] is not long numel)
        {
            throw new CheckpointException(path, "the pickle refers to a persistent object that is not a torch storage record.");
        }
        if (storages.TryGetValue(key, out var known))
        {
            return known;
        }
        var dtype = type.Name switch
        {
            "FloatStorage" => ScalarType.Float32,
            "DoubleStorage" => ScalarType.Float64,
            "HalfStorage" => ScalarType.Float16,
            "BFloat16Storage" => ScalarType.BFloat16,
            "LongStorage" => ScalarType.Int64,
            "IntStorage" => ScalarType.Int32,
            "ShortStorage" => ScalarType.Int16,
            "CharStorage" => ScalarType.Int8,
            "ByteStorage" or "UntypedStorage" => ScalarType.Byte,
            "BoolStorage" => ScalarType.Bool,
            _ => throw new CheckpointException(path, $"unsupported class {type.FullName} (storage '{key}'); convert those tensors to float32 or int64 before saving."),
        };
        // The location ('cpu', 'cuda:0', …) is ignored on purpose: weights always load onto the CPU.
        var storage = new TorchStorage(key, dtype, numel, s => ReadStorage(s, zip, prefix, path));
        storages.Add(key, storage);
        return storage;
    }

    /// <summary>Copies a storage record straight into a new tensor's memory: one copy, no per-element work.</summary>
    private static Tensor ReadStorage(TorchStorage storage, ZipArchive zip, string prefix, string path)
    {
        var name = $"{prefix}data/{storage.Key}";
        var entry = zip.GetEntry(name)
            ?? throw new CheckpointException(path, $"the data record '{name}' is missing from the archive (incomplete or damaged file).");
        var bytes = storage.Numel * TensorBytes.ElementSize(storage.DType);
        if (entry.Length < bytes)
        {
            throw new CheckpointException(path, $"the data record '{name}' holds {entry.Length} bytes but its {storage.Numel} {storage.DType} elements need {bytes}.");
        }
        if (bytes > int.MaxValue)
        {
            throw new CheckpointException(path, $"storage '{storage.Key}' is larger than 2 GB, which this reader does not support; split the checkpoint.");
        }
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("torch checkpoints are read on little-endian machines only");
        }
        var result = empty([storage.Numel], storage.DType);
        try
        {
            using var input = entry.Open();
            input.ReadExactly(result.bytes);
            return result;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            result.Dispose();
            throw new CheckpointException(path, $"the data record '{name}' is damaged or cut short ({e.Message}).", e);
        }
    }
}
