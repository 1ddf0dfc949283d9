namespace MigrationTasks.Release;

/// <summary>One file of the package folder outside <c>release/</c>, e.g. the runner's <c>migrate.dll</c>.</summary>
/// <param name="Path">Relative to the package folder (the one holding <c>release/</c>), with forward slashes.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file's bytes.</param>
public sealed record PackageFile(string Path, string Sha256);
