using MigrationTasks.Common;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Schema;
using MigrationTasks.Testing;

namespace MigrationTasks.Dev;

/// <summary>
/// The part of the safe-migration flow that runs at <c>dotnet build</c>: "Run on dev environment → Tests pass?".
/// Each method is one MSBuild target's work, so that an unchanged input skips just that step.
/// </summary>
public sealed class DevLoop(IMigrationEngine engine, Reporter reporter)
{
    /// <summary>MigrationBuild: every migration named, versioned and split correctly; no database.</summary>
    public IReadOnlyList<(MigrationFile File, PreparedScript Script)> Check(IReadOnlyList<string> migrations)
    {
        var prepared = MigrationSource.Prepare(engine, migrations);
        var outside = prepared.Count(p => !p.Script.InTransaction);
        reporter.Info($"Checked {prepared.Count} migration file(s): {prepared.Sum(p => p.Script.Statements.Count)} statement(s), " +
                      $"{outside} running outside a transaction.");
        return prepared;
    }

    /// <summary>
    /// MigrationDeployDev: prove that the whole chain of migrations builds a database from nothing (on the local
    /// throwaway server, from the cached state before the newest migration: see <see cref="StateCache"/>), then move
    /// the dev database forward by what it lacks.
    /// </summary>
    /// <param name="thenTests">
    /// The tests to run on the dev database once it is deployed, in the same process and session (the build's
    /// MigrationTest, when the build deploys: one process and one server start fewer); null to deploy only.
    /// </param>
    public async Task DeployAsync(DevLoopOptions options, CancellationToken cancellationToken, DevTests? thenTests = null)
    {
        // Prepared again rather than trusted from the check step: that step may have run in an earlier build.
        var migrations = MigrationSource.Prepare(engine, options.Migrations);
        await using var dev = await DevDatabase.OpenAsync(engine, options, reporter, cancellationToken);
        if (dev is null)
        {
            return;
        }

        // First, before any shadow work: is dev's history a prefix of the project's? A shared dev database that is
        // not (an applied migration edited: MIG7001, …) fails here; the throwaway one is reset from the proven state.
        var history = await dev.Database.ReadHistoryAsync(cancellationToken);
        var reset = false;
        try
        {
            MigrationPlanner.Plan(migrations, history);
        }
        catch (DiagnosticException refused) when (dev.IsThrowaway)
        {
            reporter.Info($"The throwaway dev database's history is not a prefix of the project's ({CodeAndFile(refused)}); it is reset from the proven state instead.");
            reset = true;
        }

        var empty = history.Count == 0 && (await dev.Database.ReadSchemaAsync(cancellationToken)).Objects.All(engine.IsBuiltIn);
        var context = ApplyContext.ForThisMachine();
        if (migrations.Count == 0)
        {
            // Nothing to prove.
        }
        else if (!dev.IsThrowaway && empty)
        {
            // A shadow would only repeat, on another empty database, the deploy about to happen here.
            reporter.Info($"{dev.Database.DisplayName} is empty, so deploying to it validates every migration from scratch.");
        }
        else if (await dev.StartLocalServerAsync(reporter, cancellationToken) is { } server)
        {
            try
            {
                var head = await new StateCache(engine, server, options.StateDirectory, reporter).ProveAsync(migrations, options.FullValidation, cancellationToken);
                // An empty throwaway dev database starts as a copy of the proven state: cheaper than applying it all again.
                if (dev.IsThrowaway && (reset || empty))
                {
                    await dev.ResetFromAsync(head, cancellationToken);
                    reporter.Info($"{dev.Database.DisplayName}: copied from the proven state (every migration but the newest).");
                }
            }
            catch (DiagnosticException failed) when (!dev.IsThrowaway)
            {
                // The local server is not the shared one: it may lack a role, an extension or a version the shared
                // server has, on which the migrations rely. The proof that counts is then a shadow beside dev.
                reporter.Info($"The proof on the local throwaway server failed ({CodeAndFile(failed)}); it runs again on a shadow beside " +
                              $"{dev.Database.DisplayName}, whose server may have a role, extension or version the local one lacks.");
                await ValidateOnShadowAsync(dev.Database, migrations, new MigrationRunner(reporter), context, options, cancellationToken);
            }
        }
        else
        {
            await ValidateOnShadowAsync(dev.Database, migrations, new MigrationRunner(reporter), context, options, cancellationToken);
        }

        await new MigrationRunner(reporter).DeployAsync(dev.Database, migrations, context, options.LockWait, cancellationToken, options.SchemaDeploy);
        if (thenTests is not null)
        {
            // The deploy's own stamp, written now: tests that fail next do not make the next build deploy again.
            if (thenTests.DeployedStamp is { } stamp)
            {
                File.WriteAllText(stamp, "");
            }

            await RunTestsAsync(dev, options, thenTests, cancellationToken);
        }
    }

    /// <summary>"MIG7001 at V5__x.sql": the first diagnostic's code and file, for a line that says what happens instead.</summary>
    private static string CodeAndFile(DiagnosticException e) =>
        e.Diagnostics[0].Code + (e.Diagnostics[0].File is { } file ? $" at {Path.GetFileName(file)}" : "");

    private async Task<bool> IsEmptyAsync(ITargetDatabase database, CancellationToken cancellationToken) =>
        (await database.ReadHistoryAsync(cancellationToken)).Count == 0 && (await database.ReadSchemaAsync(cancellationToken)).Objects.All(engine.IsBuiltIn);

    /// <summary>MigrationTest: run the database tests on the dev database and write the JUnit report.</summary>
    public Task<IReadOnlyList<TestResult>> TestAsync(DevLoopOptions options, IReadOnlyList<string> tests, string junitPath, string suiteName, CancellationToken cancellationToken) =>
        TestAsync(options, new DevTests(tests, junitPath, suiteName), cancellationToken);

    /// <summary>
    /// MigrationTest: run the database tests on the dev database, on several sessions at once, and write the JUnit
    /// report of every test. Unless <paramref name="testsAlways"/>, only the tests <see cref="TestSelection"/> picks
    /// run, and the others keep the pass recorded in the state folder's <see cref="TestSelection.StateFileName"/>.
    /// </summary>
    public async Task<IReadOnlyList<TestResult>> TestAsync(DevLoopOptions options, DevTests tests, CancellationToken cancellationToken)
    {
        await using var dev = await DevDatabase.OpenAsync(engine, options, reporter, cancellationToken);
        if (dev is null)
        {
            return [];
        }

        // The deploy step's throwaway database is gone (obj/ wiped, a killed build): build it again before testing.
        if (dev.IsThrowaway && await IsEmptyAsync(dev.Database, cancellationToken) && options.Migrations.Count > 0)
        {
            var migrations = MigrationSource.Prepare(engine, options.Migrations);
            await new MigrationRunner(reporter).DeployAsync(
                dev.Database, migrations, ApplyContext.ForThisMachine(), options.LockWait, cancellationToken, options.SchemaDeploy);
        }

        return await RunTestsAsync(dev, options, tests, cancellationToken);
    }

    private async Task<IReadOnlyList<TestResult>> RunTestsAsync(DevDatabase dev, DevLoopOptions options, DevTests tests, CancellationToken cancellationToken)
    {
        var stateFile = Path.Combine(options.StateDirectory, TestSelection.StateFileName);
        var devStateKey = await DevStateKeyAsync(dev.Database, cancellationToken);
        var selection = tests.Always
            ? TestSelection.All(tests.Files, "every test was asked for (MigrationTestsAlways or MigrationForceDeployDev)")
            : TestSelection.Choose(stateFile, tests.Files, devStateKey);
        var ran = selection.ToRun.Count == 0
            ? []
            : await new DatabaseTestRunner(engine, reporter).RunAsync(
                dev.Database, dev.OpenSessionAsync, DatabaseTestRunner.DefaultParallelism, selection.ToRun, cancellationToken);
        var results = selection.Combine(ran);
        reporter.Info(selection.Summary(ran.Count));
        JUnitReport.Write(tests.JUnitPath, tests.SuiteName, results);
        if (TestSelectionState.Of(devStateKey, results).Write(stateFile) is { } whyNot)
        {
            reporter.Info($"The tests' outcomes could not be recorded in {stateFile} ({whyNot}): the next build runs every test.");
        }

        return results;
    }

    /// <summary>
    /// The dev database's state as far as tests can tell, as a hash: the database's name (not its server's address: a
    /// throwaway server listens on another port each time it starts), what its history says was applied, when (which
    /// tells one database from another with the same migrations; a state-based project's deploy script is in it too,
    /// as R__deploy.sql), and which build of the tool and engine judge the tests. A change runs every test again; a change no history shows (an edit by hand) is
    /// what MigrationForceDeployDev and MigrationTestsAlways are for.
    /// </summary>
    private async Task<string> DevStateKeyAsync(ITargetDatabase database, CancellationToken cancellationToken)
    {
        var key = new System.Text.StringBuilder()
            .Append(engine.Name).Append('\n')
            .Append(database.Name).Append('\n')
            .Append(typeof(DevLoop).Assembly.ManifestModule.ModuleVersionId).Append('\n')
            .Append(engine.GetType().Assembly.ManifestModule.ModuleVersionId).Append('\n');
        foreach (var row in await database.ReadHistoryAsync(cancellationToken))
        {
            key.Append(row.Id).Append('|').Append(row.Script).Append('|').Append(row.Checksum).Append('|').Append(row.Outcome)
                .Append('|').Append(row.StatementsApplied).Append('|').Append(row.FinishedAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture))
                .Append('\n');
        }

        return Sha256.Hex(key.ToString());
    }

    private async Task ValidateOnShadowAsync(
        ITargetDatabase dev,
        IReadOnlyList<(MigrationFile File, PreparedScript Script)> migrations,
        MigrationRunner runner,
        ApplyContext context,
        DevLoopOptions options,
        CancellationToken cancellationToken)
    {
        var (shadow, reason) = await Shadow.TryOpenAsync(engine, dev, Path.Combine(options.StateDirectory, "shadow"), cancellationToken);
        if (shadow is null)
        {
            reporter.Report(Diagnostic.Warning(
                DiagnosticCodes.NoShadowDatabase,
                $"shadow validation skipped: {reason}. Let the dev login create databases to validate every migration from scratch."));
            return;
        }

        await using (shadow)
        {
            await runner.DeployAsync(shadow.Database, migrations, context, options.LockWait, cancellationToken);
        }
    }
}
