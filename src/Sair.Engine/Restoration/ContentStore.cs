using System.Security.Cryptography;
using Sair.Engine.IO;
using Sair.Engine.StyleGan;

namespace Sair.Engine.Restoration;

/// <summary>
/// A folder that keeps what a silo computes per person — the generator tuned to a reference, a reference photo's
/// inversion — across silo restarts, so that a restarted (or rescheduled, with the folder on a volume) silo does not
/// pay for them again: one file per content key, written atomically, least recently used removed first once the files
/// exceed <see cref="BudgetBytes"/>. It is a cache: a file that cannot be read, written or parsed is a miss (and is
/// removed), never a failed job. Silos of one machine may share the folder.
/// </summary>
public sealed class ContentStore
{
    private const string Extension = ".safetensors";
    private readonly Action<string>? _warn;
    private readonly Lock _pruneLock = new();

    /// <param name="directory">The folder (created on the first write).</param>
    /// <param name="budgetBytes">Most bytes the folder's files may take together; a file alone larger than this is not kept.</param>
    /// <param name="warn">Told, in one line, when a file could not be read or written.</param>
    public ContentStore(string directory, long budgetBytes, Action<string>? warn = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budgetBytes);
        Directory = Path.GetFullPath(directory);
        BudgetBytes = budgetBytes;
        _warn = warn;
    }

    public string Directory { get; }

    public long BudgetBytes { get; }

    /// <summary>Reads that found a file.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Reads that found none (or one that could not be read).</summary>
    public long Misses => Interlocked.Read(ref _misses);

    private long _hits;
    private long _misses;

    /// <summary>The bytes kept under <paramref name="key"/> (the file is marked as just used), or null.</summary>
    public byte[]? Read(string key)
    {
        var path = PathOf(key);
        try
        {
            if (File.Exists(path))
            {
                var bytes = File.ReadAllBytes(path);
                Touch(path);
                Interlocked.Increment(ref _hits);
                return bytes;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed by another silo's pruning between the check and the read, or unreadable: a miss.
            _warn?.Invoke($"could not read {path}: {e.Message}");
        }
        Interlocked.Increment(ref _misses);
        return null;
    }

    /// <summary>Marks a file as just used for the pruning; a folder this process may read but not write still answers reads.</summary>
    private void Touch(string path)
    {
        try
        {
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _warn?.Invoke($"could not mark {path} as used: {e.Message}");
        }
    }

    /// <summary>Keeps <paramref name="bytes"/> under <paramref name="key"/>, then removes the least recently used files beyond the budget.</summary>
    public void Write(string key, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.LongLength > BudgetBytes)
        {
            return;
        }
        var path = PathOf(key);
        try
        {
            AtomicFile.WriteAllBytes(path, bytes);
            Prune(keep: path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _warn?.Invoke($"could not keep {path}: {e.Message}");
        }
    }

    /// <summary>Removes what is kept under <paramref name="key"/> (a file that turned out unusable).</summary>
    public void Forget(string key)
    {
        try
        {
            File.Delete(PathOf(key));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _warn?.Invoke($"could not remove {PathOf(key)}: {e.Message}");
        }
    }

    /// <summary>
    /// A key for the folder: <paramref name="key"/> (a <see cref="ContentCache{TValue}"/> key) joined with a digest of
    /// every weight of <paramref name="generator"/> — unlike a silo's memory, the folder outlives the prior it was
    /// filled with, and two priors of one configuration may share their mean latent (or have none).
    /// </summary>
    public static string KeyFor(StyleGan2Generator generator, string key)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var weights = WeightDigests.GetValue(generator, Digest);
        return Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{key}|{weights}")));
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<StyleGan2Generator, string> WeightDigests = new();

    private static string Digest(StyleGan2Generator generator)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, tensor) in StateDictLoader.Entries(generator))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{name}:"));
            ContentCache<byte[]>.Append(hash, tensor);
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private string PathOf(string key)
    {
        if (key.Length == 0 || !key.All(Uri.IsHexDigit))
        {
            throw new ArgumentException("A store key is a hex digest.", nameof(key));
        }
        return Path.Combine(Directory, key + Extension);
    }

    private void Prune(string keep)
    {
        lock (_pruneLock)
        {
            var files = new DirectoryInfo(Directory).GetFiles("*" + Extension)
                .OrderByDescending(f => f.FullName == keep)
                .ThenByDescending(f => f.LastWriteTimeUtc)
                .ToList();
            long total = 0;
            var over = false;
            foreach (var file in files)
            {
                over |= total + file.Length > BudgetBytes;
                if (!over)
                {
                    total += file.Length;
                    continue;
                }
                try
                {
                    file.Delete();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _warn?.Invoke($"could not remove {file.FullName}: {e.Message}");
                }
            }
        }
    }
}
