using MigrationTasks.Diagnostics;

namespace MigrationTasks.Testing;

/// <summary>
/// What a zero-rows query file is for, which decides its diagnostic codes and severity: a database test at build,
/// a pre-deployment check on staging (a finding: a warning unless findings are errors), a post-deployment verification.
/// </summary>
public sealed record QueryKind(string Noun, string FailedCode, string ErrorCode, string NotTransactionalCode, DiagnosticSeverity Severity)
{
    public static QueryKind Test { get; } = new(
        "test", DiagnosticCodes.TestFailed, DiagnosticCodes.TestError, DiagnosticCodes.TestNotTransactional, DiagnosticSeverity.Error);

    public static QueryKind StagingCheck(bool findingsAsErrors) => new(
        "check",
        DiagnosticCodes.CheckFailed,
        DiagnosticCodes.CheckError,
        DiagnosticCodes.CheckNotTransactional,
        findingsAsErrors ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning);

    /// <summary>Checks/ on production before migrating: a failure refuses the deploy.</summary>
    public static QueryKind ProductionCheck { get; } = new(
        "check",
        DiagnosticCodes.ProductionCheckFailed,
        DiagnosticCodes.ProductionCheckError,
        DiagnosticCodes.ProductionCheckNotTransactional,
        DiagnosticSeverity.Error);

    /// <summary>Verify/ on production after migrating: a failure rolls the deploy back.</summary>
    public static QueryKind Verification { get; } = new(
        "verification",
        DiagnosticCodes.VerificationFailed,
        DiagnosticCodes.VerificationError,
        DiagnosticCodes.VerificationNotTransactional,
        DiagnosticSeverity.Error);
}
