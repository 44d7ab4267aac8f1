using System.Collections.Concurrent;

namespace Sair.Testing;

/// <summary>
/// A reminder table shared by every silo of an in-process cluster, so reminders outlive the silo under test
/// (the built-in in-memory table lives in a grain that dies with its silo). Stands in for Azure Table reminders.
/// </summary>
public sealed class SharedReminderTable : IReminderTable
{
    private readonly ConcurrentDictionary<(GrainId Grain, string Name), ReminderEntry> _rows = new();

    public Task<ReminderTableData> ReadRows(GrainId grainId) =>
        Task.FromResult(new ReminderTableData(_rows.Values.Where(r => r.GrainId == grainId).Select(Copy)));

    /// <summary>Rows whose grain hash lies in the ring range (begin, end], wrapping past the top.</summary>
    public Task<ReminderTableData> ReadRows(uint begin, uint end) =>
        Task.FromResult(new ReminderTableData(_rows.Values.Where(r => InRange(r.GrainId.GetUniformHashCode(), begin, end)).Select(Copy)));

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) =>
        Task.FromResult(_rows.TryGetValue((grainId, reminderName), out var row) ? Copy(row) : null);

    public Task<string?> UpsertRow(ReminderEntry entry)
    {
        var row = Copy(entry);
        row.ETag = Guid.NewGuid().ToString("N");
        _rows[(entry.GrainId, entry.ReminderName)] = row;
        return Task.FromResult<string?>(row.ETag);
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        var key = (grainId, reminderName);
        var removed = _rows.TryGetValue(key, out var row) && row.ETag == eTag
            && _rows.TryRemove(new KeyValuePair<(GrainId, string), ReminderEntry>(key, row));
        return Task.FromResult(removed);
    }

    public Task TestOnlyClearTable()
    {
        _rows.Clear();
        return Task.CompletedTask;
    }

    private static bool InRange(uint hash, uint begin, uint end) =>
        begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    private static ReminderEntry Copy(ReminderEntry row) => new()
    {
        GrainId = row.GrainId,
        ReminderName = row.ReminderName,
        StartAt = row.StartAt,
        Period = row.Period,
        ETag = row.ETag,
    };
}
