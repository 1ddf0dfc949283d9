using MigrationTasks.Common;
using System.Text.RegularExpressions;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.Migrations;

/// <summary>A migration source file: its name decoded the Flyway way, its exact bytes and their SHA-256.</summary>
public sealed partial class MigrationFile
{
    private MigrationFile(SourceFile source, MigrationKind kind, MigrationVersion? version, string description)
    {
        Path = source.Path;
        Kind = kind;
        Version = version;
        Description = description;
        // The checksum covers the exact bytes; the text drops a UTF-8 byte order mark only.
        Checksum = Sha256.Hex(source.Bytes.Span);
        Text = source.Text;
    }

    /// <summary>The path as given (absolute, or relative to the project), used in diagnostics.</summary>
    public string Path { get; }

    /// <summary>The file name, which is the script's identity in the history (as in Flyway).</summary>
    public string ScriptName => System.IO.Path.GetFileName(Path);

    public MigrationKind Kind { get; }

    public MigrationVersion? Version { get; }

    public string Description { get; }

    /// <summary>Lower-case hex SHA-256 of the file's bytes.</summary>
    public string Checksum { get; }

    public string Text { get; }

    /// <summary>Reads a migration file; throws <see cref="DiagnosticException"/> naming the file on a bad name.</summary>
    public static MigrationFile Load(string path) => From(SourceFile.Read(path));

    /// <summary>A migration from bytes already read (a verified release's); <see cref="DiagnosticException"/> on a bad name.</summary>
    public static MigrationFile From(SourceFile source)
    {
        var path = source.Path;
        var name = System.IO.Path.GetFileName(path);
        var match = NamePattern().Match(name);
        if (!match.Success)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.MalformedMigrationName,
                $"'{name}' is not a migration name. Name versioned migrations V<version>__<description>.sql " +
                "(e.g. V1_2__add_orders.sql), repeatable ones R__<description>.sql and undo ones " +
                "U<version>__<description>.sql, or remove the file from the Migration items.",
                path));
        }

        var prefix = match.Groups["prefix"].Value;
        var kind = prefix switch
        {
            "V" => MigrationKind.Versioned,
            "U" => MigrationKind.Undo,
            _ => MigrationKind.Repeatable,
        };
        var version = kind == MigrationKind.Repeatable ? null : MigrationVersion.Parse(match.Groups["version"].Value);
        var description = match.Groups["description"].Value.Replace('_', ' ');
        return new MigrationFile(source, kind, version, description);
    }

    [GeneratedRegex(@"^(?:(?<prefix>[VU])(?<version>\d+(?:[._]\d+)*)|(?<prefix>R))__(?<description>.+)\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
