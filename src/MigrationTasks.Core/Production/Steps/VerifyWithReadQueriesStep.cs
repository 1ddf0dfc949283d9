using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Schema;
using MigrationTasks.Testing;

namespace MigrationTasks.Production.Steps;

/// <summary>
/// "Verify with read queries" and "Data correct?": the schema must be the post-state the package expects, and every
/// Verify/ query must return no rows. Inside the release's transaction (before its commit) or on the committed
/// database (a release run migration by migration, a re-run, monitoring).
/// </summary>
internal sealed class VerifyWithReadQueriesStep(IMigrationEngine engine, Reporter reporter)
{
    /// <summary>Where the step reads: the release's transaction, or the database itself.</summary>
    public sealed record Reader(string Where, Func<CancellationToken, Task<SchemaSnapshot>> ReadSchemaAsync, Func<PreparedScript, CancellationToken, Task<TestRun>> RunQueryAsync)
    {
        public static Reader Of(ITargetDatabase database) => new(database.DisplayName, database.ReadSchemaAsync, database.RunTestAsync);

        public static Reader Of(IReleaseTransaction transaction, string where) => new($"{where} (inside the release's transaction)", transaction.ReadSchemaAsync, transaction.RunQueryAsync);
    }

    /// <summary>Runs the step and marks O and P; returns the problems found (none: data correct).</summary>
    public async Task<IReadOnlyList<string>> RunAsync(DeployRun run, ReleaseToDeploy release, Reader reader, CancellationToken cancellationToken)
    {
        var verifying = run.Path.Begin(FlowChart.VerifyQueries);
        var problems = await ProblemsAsync(run, release, reader, checkPostState: true, cancellationToken);
        if (problems.Count > 0)
        {
            run.Path.Fail(verifying, string.Join("; ", problems));
            run.Path.Mark(FlowChart.DataCorrect, StepState.Failed, string.Join("; ", problems));
            return problems;
        }

        run.Path.Pass(verifying, release.Verify.Count == 0
            ? "post-state checked; the package has no Verify/ queries"
            : $"post-state checked; {release.Verify.Count} verification query(ies) passed");
        run.Path.Mark(FlowChart.DataCorrect, StepState.Passed, "data and schema as expected");
        return problems;
    }

    /// <summary>The post-state hash (when asked) and the Verify/ queries; returns the problems found.</summary>
    public async Task<IReadOnlyList<string>> ProblemsAsync(DeployRun run, ReleaseToDeploy release, Reader reader, bool checkPostState, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (checkPostState && release.PostState is not null
            && ExpectedSchema.For(release.ExpectedState).PostStateMismatch(release.PostState, await reader.ReadSchemaAsync(cancellationToken)) is { } mismatch)
        {
            problems.Add(mismatch.Problem);
            run.Report(Diagnostic.Error(DiagnosticCodes.PostStateMismatch, $"{reader.Where}: {mismatch.Message}"));
        }

        var verifications = await new DatabaseTestRunner(engine, reporter, QueryKind.Verification).RunAsync(reader.Where, reader.RunQueryAsync, release.Verify, cancellationToken);
        foreach (var failed in verifications.Where(v => !v.Passed))
        {
            problems.Add($"{Path.GetFileName(failed.Path)} failed");
            run.Diagnostics.Add(failed.Failure!);
        }

        return problems;
    }
}
