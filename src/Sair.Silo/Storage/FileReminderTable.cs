using System.Text.Json;

namespace Sair.Silo.Storage;

/// <summary>
/// The reminder table of the embedded grid, kept in one JSON file so that an unfinished job's revive reminder
/// outlives a restart of the silo (the in-memory table forgets it, and the job would never resume).
/// The table is small (one row per unfinished job), so every change rewrites the whole file: a temporary file renamed
/// over the old one, under an exclusive lock file shared by the silo processes of one machine.
/// </summary>
public sealed class FileReminderTable : IReminderTable
{
    private readonly string _path;
    private readonly string _lockPath;
    private readonly SemaphoreSlim _processGate = new(1, 1);

    public FileReminderTable(string root)
    {
        var folder = Path.GetFullPath(root);
        Directory.CreateDirectory(folder);
        _path = Path.Combine(folder, "reminders.json");
        _lockPath = Path.Combine(folder, ".reminders.lock");
    }

    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public async Task<ReminderTableData> ReadRows(GrainId grainId) =>
        new((await ReadAllAsync()).Where(r => r.GrainId == grainId.ToString()).Select(r => r.ToEntry()));

    /// <summary>Rows whose grain hash lies in (begin, end]; begin ≥ end means the range wraps around the ring.</summary>
    public async Task<ReminderTableData> ReadRows(uint begin, uint end)
    {
        var rows = (await ReadAllAsync()).Select(r => r.ToEntry());
        return new(rows.Where(e =>
        {
            var hash = e.GrainId.GetUniformHashCode();
            return begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;
        }));
    }

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) =>
        (await ReadAllAsync()).FirstOrDefault(r => r.GrainId == grainId.ToString() && r.Name == reminderName)?.ToEntry();

    public async Task<string?> UpsertRow(ReminderEntry entry)
    {
        var etag = Guid.NewGuid().ToString("N");
        await ChangeAsync(rows =>
        {
            rows.RemoveAll(r => r.GrainId == entry.GrainId.ToString() && r.Name == entry.ReminderName);
            rows.Add(new StoredReminder(entry.GrainId.ToString(), entry.ReminderName, entry.StartAt, entry.Period, etag));
            return true;
        });
        return etag;
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) =>
        ChangeAsync(rows => rows.RemoveAll(r => r.GrainId == grainId.ToString() && r.Name == reminderName && r.ETag == eTag) > 0);

    public Task TestOnlyClearTable() => ChangeAsync(rows =>
    {
        rows.Clear();
        return true;
    });

    private async Task<bool> ChangeAsync(Func<List<StoredReminder>, bool> change)
    {
        await _processGate.WaitAsync();
        try
        {
            using var fileLock = await FileLock.AcquireAsync(_lockPath);
            var rows = await ReadAllAsync();
            if (!change(rows))
            {
                return false;
            }

            var temporary = $"{_path}.{Guid.NewGuid():N}.partial";
            try
            {
                await File.WriteAllBytesAsync(temporary, JsonSerializer.SerializeToUtf8Bytes(rows));
                File.Move(temporary, _path, overwrite: true);
            }
            finally
            {
                File.Delete(temporary);
            }

            return true;
        }
        finally
        {
            _processGate.Release();
        }
    }

    private async Task<List<StoredReminder>> ReadAllAsync()
    {
        try
        {
            await using var stream = File.OpenRead(_path);
            return await JsonSerializer.DeserializeAsync<List<StoredReminder>>(stream) ?? [];
        }
        catch (FileNotFoundException)
        {
            return [];
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException(
                $"The reminder table '{_path}' is not valid JSON: restore it or delete it (unfinished jobs then wait for their album to revive them).",
                exception);
        }
    }

    private sealed record StoredReminder(string GrainId, string Name, DateTime StartAt, TimeSpan Period, string ETag)
    {
        public ReminderEntry ToEntry() => new()
        {
            GrainId = Orleans.Runtime.GrainId.Parse(GrainId),
            ReminderName = Name,
            StartAt = StartAt,
            Period = Period,
            ETag = ETag,
        };
    }
}
