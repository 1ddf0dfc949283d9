using System.Globalization;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.Production;

/// <summary>
/// A daily window in UTC, <c>HH:mm-HH:mm</c>, that may wrap midnight (<c>22:00-02:00</c>). A deploy started outside
/// it is refused before the database is touched.
/// </summary>
public sealed record MaintenanceWindow(TimeOnly Start, TimeOnly End)
{
    public static MaintenanceWindow Parse(string text)
    {
        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length == 2
            && TimeOnly.TryParseExact(parts[0], "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
            && TimeOnly.TryParseExact(parts[1], "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var end)
            && start != end)
        {
            return new MaintenanceWindow(start, end);
        }

        throw new DiagnosticException(Diagnostic.Error(
            DiagnosticCodes.InvalidOption,
            $"--window '{text}' is not a daily UTC window like 22:00-02:00 (HH:mm-HH:mm, start and end different)."));
    }

    public bool Contains(DateTimeOffset moment) => TimeOnly.FromDateTime(moment.UtcDateTime).IsBetween(Start, End);

    public override string ToString() => $"{Start:HH\\:mm}-{End:HH\\:mm} UTC";
}
