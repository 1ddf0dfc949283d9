using System.Text;
using MigrationTasks.Release;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>
/// The "If it fails" section of a SQL Server release's plan.md: how <c>migrate deploy</c> (ProductionRunner) brings
/// production back for THIS release's deploy script. Whether the script runs in one transaction is decided as the
/// runner decides it (SqlServerEngine.Prepare of the script as written to the release); the rest
/// says what the runner and SqlServerBackups do, so that a reviewer knows before the deploy what a failure costs.
/// </summary>
public static class RollbackPlan
{
    public const string Heading = "## If it fails";

    /// <param name="batches">How many batches R__deploy.sql has.</param>
    /// <param name="outsideTransaction">Why it runs outside a transaction, batch by batch; null when it runs in one.</param>
    /// <param name="checks">How many Checks/ the release carries.</param>
    /// <param name="verifies">How many Verify/ queries the release carries.</param>
    public static string Section(int batches, string? outsideTransaction, int checks, int verifies)
    {
        var script = $"`{ReleaseLayout.MigrationsFolder}/{SqlServerReleaseWriter.DeployScriptName}`";
        var text = new StringBuilder()
            .AppendLine(Heading)
            .AppendLine()
            .AppendLine(checks == 0
                ? "- **Before migrating** (wrong pre-state, the deploy lock, the backup): the runner refuses with exit code 2 and production is not touched."
                : $"- **Before migrating** (wrong pre-state, a failing check of the {checks} in Checks/, the deploy lock, the backup): the runner refuses " +
                  "with exit code 2 and production is not touched.");
        if (outsideTransaction is null)
        {
            text.AppendLine($"- **While migrating**: {script} runs in **one transaction** ({batches} batch(es), `SET XACT_ABORT ON`, " +
                            "`@@TRANCOUNT` checked after each batch). A failing batch rolls the transaction back: production is left as it was, which the " +
                            "runner proves by reading the schema again (its hash must equal the one read before the deploy); the backup is not needed. " +
                            "Only if the schema is not proven equal, or the connection is lost mid-script (what committed is then unknown), does the runner " +
                            "restore the backup taken at step 3. Exit code 1.");
        }
        else
        {
            text.AppendLine($"- **While migrating**: {script} runs **outside a transaction**, batch by batch ({batches} batch(es)), " +
                            $"because it holds {outsideTransaction}: each batch commits on its own, so a failure leaves " +
                            "production half-deployed. The runner then restores the backup taken at step 3 (`RESTORE DATABASE … FROM DISK = … WITH REPLACE, " +
                            "CHECKSUM`, the database set SINGLE_USER WITH ROLLBACK IMMEDIATE for it) and proves the restore by the schema hash recorded " +
                            "with the backup. Exit code 1.");
        }

        text.AppendLine(verifies == 0
                ? "- **After the commit**: the runner compares production's catalog fingerprint (the names of its objects) with the one of " +
                  $"`{SqlServerReleaseWriter.DacpacName}`; a difference restores the backup taken at step 3, proven as above. This release has no Verify/ queries."
                : $"- **After the commit**: the runner compares production's catalog fingerprint (the names of its objects) with the one of " +
                  $"`{SqlServerReleaseWriter.DacpacName}` and runs the {verifies} Verify/ quer{(verifies == 1 ? "y" : "ies")}, each in a transaction it rolls " +
                  "back. A difference, a query that returns rows or fails, or a verification that cannot finish restores the backup taken at step 3 " +
                  "(the deploy is committed, so restoring is the only way back), proven by the schema hash recorded with the backup; with " +
                  "`--monitor-seconds N` Verify/ runs again after N seconds, and a failure then restores the backup too. Exit code 1.")
            .AppendLine("- **If the restore itself fails**: exit code 3; report.md names the backup and the command to restore it by hand " +
                        "(`dotnet migrate.dll restore --connection-variable VAR --backup-dir DIR --backup ID`).")
            .AppendLine("- **What a restore does not undo**: it puts back this one database as it was at the backup. Writes other sessions made after the " +
                        "backup are lost with it (SINGLE_USER WITH ROLLBACK IMMEDIATE also ends their open transactions), and whatever lives outside the " +
                        "database stays as the deploy left it: logins and other server objects, SQL Agent jobs in msdb, other databases.");
        return text.ToString();
    }
}
