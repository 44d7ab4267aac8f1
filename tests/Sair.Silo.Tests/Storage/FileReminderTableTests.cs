using Sair.Silo.Storage;

namespace Sair.Silo.Tests.Storage;

public sealed class FileReminderTableTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sair-reminders-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Rows_survive_a_new_table_over_the_same_folder()
    {
        var job = GrainId.Create("restorationjobgrain", "album/0001");
        var etag = await new FileReminderTable(_root).UpsertRow(Entry(job, "revive", TimeSpan.FromMinutes(1)));

        var row = await new FileReminderTable(_root).ReadRow(job, "revive");

        Assert.NotNull(row);
        Assert.Equal(job, row.GrainId);
        Assert.Equal(TimeSpan.FromMinutes(1), row.Period);
        Assert.Equal(etag, row.ETag);
        Assert.Null(await new FileReminderTable(_root).ReadRow(job, "other"));
    }

    [Fact]
    public async Task Upsert_replaces_the_row_and_remove_needs_the_current_etag()
    {
        var table = new FileReminderTable(_root);
        var job = GrainId.Create("restorationjobgrain", "j1");
        var first = await table.UpsertRow(Entry(job, "revive", TimeSpan.FromMinutes(1)));
        var second = await table.UpsertRow(Entry(job, "revive", TimeSpan.FromMinutes(2)));

        Assert.NotEqual(first, second);
        Assert.Single((await table.ReadRows(job)).Reminders);
        Assert.False(await table.RemoveRow(job, "revive", first!));
        Assert.True(await table.RemoveRow(job, "revive", second!));
        Assert.Empty((await table.ReadRows(job)).Reminders);
    }

    [Fact]
    public async Task Range_reads_split_the_ring_without_losing_or_doubling_a_row()
    {
        var table = new FileReminderTable(_root);
        var grains = Enumerable.Range(0, 40).Select(i => GrainId.Create("restorationjobgrain", $"job-{i}")).ToList();
        foreach (var grain in grains)
        {
            await table.UpsertRow(Entry(grain, "revive", TimeSpan.FromMinutes(1)));
        }

        // Three ranges covering the whole ring, the last one wrapping past uint.MaxValue.
        uint a = 0x4000_0000, b = 0x9000_0000, c = 0xE000_0000;
        var seen = new List<GrainId>();
        foreach (var (begin, end) in new[] { (a, b), (b, c), (c, a) })
        {
            var rows = (await table.ReadRows(begin, end)).Reminders;
            Assert.All(rows, row =>
            {
                var hash = row.GrainId.GetUniformHashCode();
                Assert.True(begin < end ? hash > begin && hash <= end : hash > begin || hash <= end);
            });
            seen.AddRange(rows.Select(r => r.GrainId));
        }

        Assert.Equal(grains.OrderBy(g => g.ToString()), seen.OrderBy(g => g.ToString()));
    }

    private static ReminderEntry Entry(GrainId grain, string name, TimeSpan period) => new()
    {
        GrainId = grain,
        ReminderName = name,
        StartAt = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc),
        Period = period,
    };
}
