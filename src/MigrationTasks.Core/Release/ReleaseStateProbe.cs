using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;

namespace MigrationTasks.Release;

/// <summary>The schema hashes a release expects, computed on a throwaway server.</summary>
/// <param name="EmptyDatabase">A new, empty database: the pre-state of a release without baseline.</param>
/// <param name="AfterRelease">Every migration applied from scratch: what production must look like afterwards.</param>
/// <param name="BaselineReplay">Only the baseline's applied migrations: should equal the baseline's schema; null when not replayed.</param>
public sealed record ReleaseSchemaHashes(string EmptyDatabase, string AfterRelease, string? BaselineReplay);

/// <summary>
/// Builds the release's expected states on a throwaway server of the engine: one database gets every migration (the
/// expected post-state), another only those production has applied (which must reproduce production's baseline).
/// </summary>
public sealed class ReleaseStateProbe(IMigrationEngine engine, Reporter reporter)
{
    /// <summary>The hashes, or null after warning MIG5004 when no throwaway server can be started here.</summary>
    /// <param name="applied">The migrations production has applied, to replay; null to skip the replay.</param>
    public async Task<ReleaseSchemaHashes?> ProbeAsync(
        IReadOnlyList<(MigrationFile File, PreparedScript Script)> all,
        IReadOnlyList<(MigrationFile File, PreparedScript Script)>? applied,
        string stateDirectory,
        CancellationToken cancellationToken)
    {
        var dataDirectory = Path.Combine(stateDirectory, "release-shadow");
        IEphemeralServer server;
        try
        {
            server = await engine.StartEphemeralServerAsync(dataDirectory, fresh: true, cancellationToken);
        }
        catch (EphemeralServerUnavailableException e)
        {
            reporter.Report(Diagnostic.Warning(
                DiagnosticCodes.NoExpectedPostState,
                $"the release's expected schemas were not computed: no throwaway {engine.Name} server can be started here ({e.Message}). " +
                "The manifest has no expectedPostState, so the deploy cannot compare production's schema after migrating."));
            return null;
        }

        try
        {
            await using (server)
            {
                // Quiet: the shadow's progress lines would bury what the package step says; failures still throw.
                var runner = new MigrationRunner(new Reporter(TextWriter.Null));
                var context = ApplyContext.ForThisMachine();
                string empty, after;
                await using (var database = await server.OpenDatabaseAsync("release_after", create: true, cancellationToken))
                {
                    empty = (await database.ReadSchemaAsync(cancellationToken)).Hash;
                    await runner.DeployAsync(database, all, context, MigrationRunner.DefaultLockWait, cancellationToken);
                    after = (await database.ReadSchemaAsync(cancellationToken)).Hash;
                }

                string? replay = null;
                if (applied is not null)
                {
                    await using var database = await server.OpenDatabaseAsync("release_baseline", create: true, cancellationToken);
                    await runner.DeployAsync(database, applied, context, MigrationRunner.DefaultLockWait, cancellationToken);
                    replay = (await database.ReadSchemaAsync(cancellationToken)).Hash;
                }

                return new ReleaseSchemaHashes(empty, after, replay);
            }
        }
        finally
        {
            // Nothing of it is needed again (unlike the dev server), so its data does not stay in obj/.
            DeleteQuietly(dataDirectory);
        }
    }

    private static void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next package step, which starts the server fresh and wipes it anyway.
        }
    }
}
