using MigrationTasks.Engines;

namespace MigrationTasks.Tests.Suites;

/// <summary>
/// What the shared suites need of one engine: the engine, fresh databases on a server the tests may use, admin SQL
/// on them, the few pieces of SQL that are spelled differently per engine, and which engine-dependent promises the
/// flow keeps on it. Each suite runs once per engine, through a subclass in that engine's test project that passes
/// its fixture. Where the engine's server cannot be had, <see cref="RequireServerAsync"/> ignores the suite with the reason.
/// </summary>
/// <remarks>
/// Everything else the suites run is plain SQL both engines take alike: CREATE TABLE with int, varchar(n) and
/// PRIMARY KEY, ALTER TABLE … ADD, CREATE INDEX, INSERT, UPDATE, DELETE, SELECT with HAVING, upper().
/// </remarks>
public abstract class EngineUnderTest
{
    /// <summary>The line that runs a migration statement by statement (batch by batch) without a transaction, on every engine.</summary>
    public const string NoTransactionMarker = "-- migrationtasks: no-transaction";

    public abstract IMigrationEngine Engine { get; }

    /// <summary>Ignores the calling suite (Assert.Ignore, reason printed) when this engine's server cannot be had.</summary>
    public abstract Task RequireServerAsync();

    /// <summary>A new folder the server writes backups to and the tests read; ignores the suite when there is none.</summary>
    public abstract Task<string> CreateBackupDirectoryAsync();

    /// <summary>Ignores the calling suite, with the reason, unless both the server and a backup folder can be had (the runner backs up before it migrates).</summary>
    public async Task RequireServerAndBackupsAsync()
    {
        await RequireServerAsync();
        Directory.Delete(await CreateBackupDirectoryAsync());
    }

    /// <summary>Creates an empty database of its own and returns its connection string.</summary>
    public abstract Task<string> CreateDatabaseAsync();

    /// <summary>Runs admin SQL and returns the rows of its result sets, every value as invariant text (NULL as null).</summary>
    public abstract Task<List<string?[]>> QueryAsync(string connectionString, string sql);

    /// <summary>The databases on the server that the engine made as copies of this one (the staging gate rehearses on such copies).</summary>
    public abstract Task<List<string?[]>> CopiesOfAsync(string connectionString);

    /// <summary>The schema an unqualified CREATE TABLE puts a table in, as schema snapshots name it (public, dbo).</summary>
    public abstract string DefaultSchema { get; }

    /// <summary>The server's error code for a duplicate primary key (23505, 2627).</summary>
    public abstract string DuplicateKeyError { get; }

    /// <summary>
    /// A script of <paramref name="statements"/> (each ending in ';') that the engine runs one at a time: one line each
    /// for PostgreSQL, a GO batch each for SQL Server (which compiles a batch whole, and numbers its batches).
    /// </summary>
    public abstract string Script(params string[] statements);

    /// <summary>A statement that creates the view, or replaces it when it exists: what a repeatable migration holds.</summary>
    public abstract string CreateOrReplaceView(string name, string query);

    /// <summary>
    /// A migration that creates an index outside a transaction, and the reason the engine gives for running it so
    /// (the statement itself where the engine knows it cannot run in one, else the no-transaction marker).
    /// </summary>
    public abstract (string Sql, string Reason) IndexOutsideATransaction(string name, string table, string column, bool unique = false);

    /// <summary>
    /// Whether the engine can prove that nobody else wrote since a backup (PostgreSQL's write counters): then the
    /// runner restores a backup after a commit on its own; without, only with DiscardLaterWrites, else it stops for a person.
    /// </summary>
    public abstract bool TellsWritesSinceBackup { get; }

    /// <summary>Whether the engine starts a throwaway local server for the build's dev database when none is configured.</summary>
    public abstract bool StartsThrowawayServers { get; }
}
