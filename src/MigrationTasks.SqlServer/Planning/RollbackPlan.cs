using System.Text;
using MigrationTasks.Engines;
using MigrationTasks.Release;
using MigrationTasks.SqlServer.Engine;

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
            text.AppendLine($"- **While migrating and verifying**: {script} runs in **one transaction** ({batches} batch(es), `SET XACT_ABORT ON`, " +
                            "`@@TRANCOUNT` checked after each batch), and the post-state check (production's catalog fingerprint against " +
                            $"`{SqlServerReleaseWriter.DacpacName}`'s){(verifies == 0 ? "" : $" and the {verifies} Verify/ quer{(verifies == 1 ? "y" : "ies")}")} " +
                            "run inside it, before it commits with the record that the release is verified. A failing batch, a failing verification, a kill or " +
                            "a lost connection before the commit rolls all of it back: production is left as it was, which the runner proves by reading the " +
                            "schema again; the backup is not needed. Exit code 1.");
            text.AppendLine(verifies == 0
                ? "- **After the commit**: nothing more runs. This release has no Verify/ queries for `--monitor-seconds N` to run again."
                : "- **After the commit**: with `--monitor-seconds N` Verify/ runs again after N seconds. A failure then would need the backup taken at " +
                  "step 3, but SQL Server keeps no write counters the runner can compare, so it cannot tell whether the application wrote since: " +
                  "nothing is restored automatically (exit code 3, MIG6024) unless the deploy was run with `--discard-later-writes`.");
        }
        else
        {
            text.AppendLine($"- **While migrating**: {script} runs **outside a transaction**, batch by batch ({batches} batch(es)), " +
                            $"because it holds {outsideTransaction}: each batch commits on its own, so a failure leaves " +
                            "production half-deployed. Restoring the backup taken at step 3 (`RESTORE DATABASE … FROM DISK = … WITH REPLACE, CHECKSUM`, " +
                            "the database set SINGLE_USER WITH ROLLBACK IMMEDIATE for it, proven by the schema hash recorded with the backup) would also " +
                            "discard what other sessions wrote since, which SQL Server gives the runner no way to count: the runner restores only when the " +
                            "deploy was run with `--discard-later-writes` (exit code 1), and otherwise stops with exit code 3 (MIG6024), production as the " +
                            "failure left it.");
            text.AppendLine(verifies == 0
                ? "- **After the commit**: the runner compares production's catalog fingerprint with the one of " +
                  $"`{SqlServerReleaseWriter.DacpacName}`; a difference needs the backup, as above. This release has no Verify/ queries."
                : $"- **After the commit**: the runner compares production's catalog fingerprint with the one of `{SqlServerReleaseWriter.DacpacName}` " +
                  $"and runs the {verifies} Verify/ quer{(verifies == 1 ? "y" : "ies")}, each in a transaction it rolls back; a failure needs the backup, as above.");
        }

        text.AppendLine("- **If the restore itself fails**: exit code 3; report.md names the backup and the command to restore it by hand " +
                        $"(`{DatabaseBackup.RestoreCommandFor(SqlServerEngine.EngineName, "DIR", "ID", discardLaterWrites: true)}`).")
            .AppendLine("- **What a restore does not undo**: it puts back this one database as it was at the backup. Writes other sessions made after the " +
                        "backup are lost with it (SINGLE_USER WITH ROLLBACK IMMEDIATE also ends their open transactions), and whatever lives outside the " +
                        "database stays as the deploy left it: logins and other server objects, SQL Agent jobs in msdb, other databases.");
        return text.ToString();
    }
}
