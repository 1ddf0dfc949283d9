using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;

namespace MigrationTasks.Engines;

/// <summary>Where one production deploy attempt stands, as recorded in the database's own history.</summary>
public enum DeployState
{
    /// <summary>Backed up and migrating; nothing is claimed yet. An interrupted run leaves this.</summary>
    Started,

    /// <summary>Every migration committed, verification not passed yet: not deployed.</summary>
    Migrated,

    /// <summary>Migrated and verified: the only state in which a release counts as deployed.</summary>
    Verified,

    /// <summary>Failed, and the database is at its pre-deploy state (rolled back, or nothing had committed).</summary>
    Failed,

    /// <summary>A restore of the attempt's backup began and has not been seen to finish.</summary>
    Restoring,

    /// <summary>The attempt's backup was restored and proven: the database is at its pre-deploy state.</summary>
    Restored,

    /// <summary>The runner could not bring the database back on its own; a person must look (exit code 3).</summary>
    NeedsPerson,

    /// <summary>A person said (with <c>migrate resolve</c>) that they dealt with an attempt that needed one.</summary>
    Resolved,
}

/// <summary>
/// One run of <c>migrate deploy</c> against a database, kept in the engine's history schema beside the migration
/// history (<c>migrationtasks.deploys</c>). A re-run reads it to resume (re-verify, finish a restore) or to refuse
/// with what is known, and never reports an unverified release as deployed.
/// </summary>
/// <param name="Id">Time-ordered and unique without a sequence (a restore puts sequences back), e.g. 20261203T101500Z-1a2b3c.</param>
/// <param name="Release">What exactly was deployed: the SHA-256 of the signed manifest (the release's identity).</param>
/// <param name="BackupId">The backup taken before migrating, once there is one.</param>
/// <param name="BackupDirectory">Where that backup's files are, as the runner saw the folder.</param>
/// <param name="Detail">The last thing that happened, in words (the failure, who resolved it and why).</param>
public sealed record DeployAttempt(
    string Id,
    string PackageId,
    string PackageVersion,
    string Release,
    DeployState State,
    DateTimeOffset StartedAt,
    DateTimeOffset UpdatedAt,
    string? BackupId,
    string? BackupDirectory,
    string Detail,
    string RunnerHost)
{
    /// <summary>Not finished one way or the other: a later deploy must resume it or refuse.</summary>
    public bool IsOpen => State is DeployState.Started or DeployState.Migrated or DeployState.Restoring or DeployState.NeedsPerson;

    /// <summary>The name stored in the database for a state (snake case, as the CHECK constraint lists them).</summary>
    public static string StateName(DeployState state) => state switch
    {
        DeployState.NeedsPerson => "needs_person",
        _ => state.ToString().ToLowerInvariant(),
    };

    public static DeployState ParseState(string name) =>
        name == "needs_person" ? DeployState.NeedsPerson : Enum.Parse<DeployState>(name, ignoreCase: true);

    /// <summary>Every state name, for the engines' CHECK constraints.</summary>
    public static IEnumerable<string> StateNames => Enum.GetValues<DeployState>().Select(StateName);

    public static string NewId(DateTimeOffset now) =>
        $"{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";

    /// <summary>The columns of an engine's <c>migrationtasks.deploys</c> table, in the order <see cref="ReadAllAsync"/> reads them.</summary>
    public const string Columns = "id, package_id, package_version, release_sha256, state, started_at, updated_at, backup_id, backup_directory, detail, runner_host";

    /// <summary>Every row of a <c>SELECT</c> of <see cref="Columns"/>, whichever engine's reader returns them.</summary>
    public static async Task<IReadOnlyList<DeployAttempt>> ReadAllAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        var attempts = new List<DeployAttempt>();
        while (await reader.ReadAsync(cancellationToken))
        {
            attempts.Add(new DeployAttempt(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetString(3),
                ParseState(reader.GetString(4)),
                reader.GetFieldValue<DateTimeOffset>(5),
                reader.GetFieldValue<DateTimeOffset>(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetString(8),
                reader.GetString(9),
                reader.GetString(10)));
        }

        return attempts;
    }

    /// <summary>The same attempt in another state, with what happened, stamped now.</summary>
    public DeployAttempt With(DeployState state, string detail) => this with { State = state, Detail = detail, UpdatedAt = DateTimeOffset.UtcNow };
}
