namespace MigrationTasks.Production;

/// <summary>
/// The seed's flowchart (../shared/seed-database-migration-flow.txt) with its node ids, plus the runner's own gates
/// between "Schedule maintenance window" and "Create database backup": the package is verified, production is
/// compared with what the package expects, and the pre-deployment checks run. A report colours the path taken.
/// </summary>
public static class FlowChart
{
    public const string WriteScript = "A";
    public const string RunOnDev = "B";
    public const string TestsPass = "C";
    public const string FixMigration = "D";
    public const string RunOnStaging = "E";
    public const string DataIntegrity = "F";
    public const string DebugSchema = "G";
    public const string Notify = "H";
    public const string Window = "I";
    public const string VerifyPackage = "V";
    public const string PreState = "W";
    public const string Checks = "X";
    public const string Refused = "Z";
    public const string Backup = "J";
    public const string RunOnProduction = "K";
    public const string Succeeded = "L";
    public const string Restore = "M";
    public const string Investigate = "N";
    public const string VerifyQueries = "O";
    public const string DataCorrect = "P";
    public const string Rollback = "Q";
    public const string Monitor = "R";
    public const string Close = "S";

    /// <summary>Node id → (title, is a decision).</summary>
    public static readonly IReadOnlyList<(string Id, string Title, bool Decision)> Nodes =
    [
        (WriteScript, "Write migration script", false),
        (RunOnDev, "Run on dev environment", false),
        (TestsPass, "Tests pass?", true),
        (FixMigration, "Fix migration", false),
        (RunOnStaging, "Run on staging", false),
        (DataIntegrity, "Data integrity OK?", true),
        (DebugSchema, "Debug schema", false),
        (Notify, "Notify on-call team", false),
        (Window, "Schedule maintenance window", false),
        (VerifyPackage, "Verify release package", false),
        (PreState, "Production as packaged?", true),
        (Checks, "Checks pass on production?", true),
        (Refused, "Refused: database untouched", false),
        (Backup, "Create database backup", false),
        (RunOnProduction, "Run on production", false),
        (Succeeded, "Migration succeeded?", true),
        (Restore, "Restore from backup", false),
        (Investigate, "Investigate failure", false),
        (VerifyQueries, "Verify with read queries", false),
        (DataCorrect, "Data correct?", true),
        (Rollback, "Rollback", false),
        (Monitor, "Monitor for issues", false),
        (Close, "Close migration ticket", false),
    ];

    public static readonly IReadOnlyList<(string From, string To, string? Label)> Edges =
    [
        (WriteScript, RunOnDev, null),
        (RunOnDev, TestsPass, null),
        (TestsPass, FixMigration, "No"),
        (FixMigration, RunOnDev, null),
        (TestsPass, RunOnStaging, "Yes"),
        (RunOnStaging, DataIntegrity, null),
        (DataIntegrity, DebugSchema, "No"),
        (DebugSchema, FixMigration, null),
        (DataIntegrity, Notify, "Yes"),
        (Notify, Window, null),
        (Window, VerifyPackage, null),
        (VerifyPackage, PreState, "Trusted"),
        (VerifyPackage, Refused, "No"),
        (PreState, Checks, "Yes"),
        (PreState, Refused, "No"),
        (PreState, Close, "Already deployed"),
        (Checks, Backup, "Yes"),
        (Checks, Refused, "No"),
        (Backup, RunOnProduction, null),
        (RunOnProduction, Succeeded, null),
        (Succeeded, Restore, "No"),
        (Restore, Investigate, null),
        (Succeeded, VerifyQueries, "Yes"),
        (VerifyQueries, DataCorrect, null),
        (DataCorrect, Rollback, "No"),
        (Rollback, Restore, null),
        (DataCorrect, Monitor, "Yes"),
        (Monitor, Close, null),
    ];

    public static string TitleOf(string id) => Nodes.First(n => n.Id == id).Title;
}
