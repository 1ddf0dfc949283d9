namespace MigrationTasks.Engines;

/// <summary>
/// The one interface a database engine implements. Core drives the flow through it and never references an engine;
/// the CLI picks the engine by the project's <c>MigrationEngine</c>.
/// </summary>
public interface IMigrationEngine
{
    /// <summary>The <c>MigrationEngine</c> value that selects this engine, e.g. <c>PostgreSql</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Whether a schema object, as this engine's schema reader names it, is one every new database has (e.g. a
    /// default schema): a database holding only such objects and no history is empty.
    /// </summary>
    bool IsBuiltIn(Schema.SchemaObject item);

    /// <summary>
    /// Splits a script and decides how it runs, offline. Throws a <see cref="Diagnostics.DiagnosticException"/> at
    /// file(line,col) for a script that cannot be split or mixes transactional and non-transactional statements.
    /// </summary>
    PreparedScript Prepare(string path, string text);

    /// <summary>Opens a database from a connection string; MIG1003/MIG1004 diagnostics that never echo it.</summary>
    Task<ITargetDatabase> ConnectAsync(string connectionString, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a throwaway server whose data lives in <paramref name="dataDirectory"/>: a new one when
    /// <paramref name="fresh"/> (anything there is wiped), else the one a previous call left there.
    /// Throws <see cref="EphemeralServerUnavailableException"/> when this machine cannot run one.
    /// </summary>
    Task<IEphemeralServer> StartEphemeralServerAsync(string dataDirectory, bool fresh, CancellationToken cancellationToken);

    /// <summary>
    /// The state-based project the options describe (see <see cref="IModelProject"/>); throws a MIG diagnostic when
    /// this engine has no such projects (its projects are migrations only).
    /// </summary>
    IModelProject OpenModelProject(ModelProjectOptions options) =>
        throw new Diagnostics.DiagnosticException(Diagnostics.Diagnostic.Error(
            Diagnostics.DiagnosticCodes.InvalidOption,
            $"MigrationEngine {Name} builds releases from migrations only, and the project passed a compiled model ({options.Model}); remove it, or use an engine with state-based projects.",
            options.Model));

    /// <summary>
    /// Exports the database's schema as this engine's compiled model, for a state-based project's MigrationBaseline,
    /// when <paramref name="outputPath"/> names a model file of this engine (by its extension); returns a sentence for
    /// the output saying what was written, or null when the path is no model file (the CLI then writes a baseline snapshot).
    /// </summary>
    Task<string?> TryExportModelBaselineAsync(string connectionString, string outputPath, CancellationToken cancellationToken) => Task.FromResult<string?>(null);
}
