namespace Ataraxia.Throughput;

/// <summary>The targets of the table, checked once every row and ratio is known.</summary>
public static class Targets
{
    public static void Apply(Report report)
    {
        Check(report, "tcp-64", r => r.MessagesPerSecond >= 1_000_000);
        Check(report, "tls-64", r => r.MessagesPerSecond >= 500_000);
        Check(report, "tcp-16k", r => r.VsBaseline >= 0.5);
        Check(report, "hop1-64", r => r.VsBaseline >= 0.5);
    }

    private static void Check(Report report, string id, Func<Row, bool> met)
    {
        if (report.Find(id) is Row row)
        {
            int index = report.Rows.ToList().IndexOf(row);
            report.Replace(index, row with { Met = met(row) });
        }
    }
}
