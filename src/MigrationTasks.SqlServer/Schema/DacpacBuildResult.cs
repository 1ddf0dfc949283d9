using MigrationTasks.Diagnostics;

namespace MigrationTasks.SqlServer.Schema;

/// <summary>What a dacpac build found, after NoWarn and WarningsAsErrors, and whether it wrote the dacpac.</summary>
public sealed record DacpacBuildResult(IReadOnlyList<Diagnostic> Diagnostics, bool Written)
{
    public IEnumerable<Diagnostic> Errors => Diagnostics.Where(d => d.IsError);

    public IEnumerable<Diagnostic> Warnings => Diagnostics.Where(d => !d.IsError);
}
