namespace MigrationTasks.Release;

/// <summary>
/// The exit codes of the <c>migrate</c> program (design §3). Build-time verbs use only the first two; the runner
/// inside a release package uses all four, so that CI and on-call can tell from the code alone what state the
/// database is in.
/// </summary>
public enum RunnerExitCode
{
    /// <summary>Done: deployed and verified, or the verb's work succeeded.</summary>
    Succeeded = 0,

    /// <summary>Failed, and the database is back at its pre-deploy state (rolled back, undone or restored).</summary>
    Failed = 1,

    /// <summary>Refused before touching the database: bad package, untrusted signer, wrong pre-state, window, lock.</summary>
    Refused = 2,

    /// <summary>Failed, and the database's state needs a person: the report says what ran and what did not.</summary>
    NeedsAttention = 3,
}
