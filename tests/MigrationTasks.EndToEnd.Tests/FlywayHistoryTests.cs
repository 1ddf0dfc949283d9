using System.Globalization;
using System.Numerics;
using MigrationTasks.PostgreSql.Ephemeral;
using MigrationTasks.PostgreSql.Tests;
using MigrationTasks.Testing;
using Npgsql;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>
/// A long Flyway history written the way teams write them (FlywayHistory/db/migration: a pg_dump baseline, plpgsql
/// and SQL-standard function bodies, DO blocks, CONCURRENTLY files, enum values, SET ROLE and search_path changes
/// left in place, dotted and date-style versions, repeatables), applied by <c>dotnet build</c>, must give the schema
/// that psql gives when it runs the same files one by one in Flyway's order. psql is the reference both for where a
/// file splits into statements and for what one file's session leaves to the next: nothing, as each
/// <c>psql -f</c> is a session of its own.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class FlywayHistoryTests
{
    private static readonly string History =
        Path.Combine(RepositoryPaths.Root, "tests", "MigrationTasks.EndToEnd.Tests", "FlywayHistory", "db", "migration");

    [Test]
    public async Task Dotnet_build_of_a_Flyway_history_gives_the_schema_psql_gives_file_by_file()
    {
        var files = InFlywayOrder(Directory.GetFiles(History, "*.sql"));
        var project = await DatabaseProject.CreateAsync(
            "Helpdesk",
            "<EnableDefaultMigrationItems>false</EnableDefaultMigrationItems>",
            """<Migration Include="db/migration/*.sql" />""");
        Directory.CreateDirectory(project.PathOf(Path.Combine("db", "migration")));
        foreach (var file in files)
        {
            File.Copy(file, project.PathOf(Path.Combine("db", "migration", Path.GetFileName(file))));
        }

        var built = await PostgresServer.CreateDatabaseAsync();
        var reference = await PostgresServer.CreateDatabaseAsync();

        var (exitCode, output) = await project.BuildAsync(new Dictionary<string, string?> { ["MIGRATIONTASKS_DEV_CONNECTION"] = built });

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain($"applied {files.Count} migration(s)"));
        foreach (var file in files)
        {
            var (psqlExit, psqlOutput) = await RunAsync(reference, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", file);
            Assert.That(psqlExit, Is.EqualTo(0), $"psql -f {Path.GetFileName(file)}:\n{psqlOutput}");
        }

        var history = await PostgresServer.QueryAsync(built, "SELECT script, outcome FROM migrationtasks.history ORDER BY id");
        Assert.That(
            history.Select(row => $"{row[0]} {row[1]}"),
            Is.EqualTo(files.Select(file => $"{Path.GetFileName(file)} success")),
            "one success row per file, in Flyway's order");
        await AssertSameSchemaAsync(built, reference);
        const string cannedTexts = "SELECT string_agg(title || ': ' || body, E'\\n' ORDER BY id) FROM app.canned_response";
        Assert.That(
            (await PostgresServer.QueryAsync(built, cannedTexts))[0][0],
            Is.EqualTo((await PostgresServer.QueryAsync(reference, cannedTexts))[0][0]),
            "strings holding ';', quotes, '$$' and comment markers arrive intact");
    }

    /// <summary>
    /// Flyway's order: versioned files by version, compared part by part as numbers (1_1 before 2 before 10, and
    /// 20201207.9000 before 20201207.10523), then repeatable ones by name.
    /// </summary>
    private static List<string> InFlywayOrder(IEnumerable<string> files)
    {
        var all = files.ToList();
        var versioned = all.Where(f => Path.GetFileName(f).StartsWith('V'))
            .OrderBy(VersionParts, Comparer<BigInteger[]>.Create(CompareVersions));
        var repeatable = all.Where(f => Path.GetFileName(f).StartsWith("R__", StringComparison.Ordinal))
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal);
        return [.. versioned, .. repeatable];
    }

    private static BigInteger[] VersionParts(string file)
    {
        var name = Path.GetFileName(file);
        var version = name[1..name.IndexOf("__", StringComparison.Ordinal)];
        return [.. version.Split('.', '_').Select(part => BigInteger.Parse(part, CultureInfo.InvariantCulture))];
    }

    private static int CompareVersions(BigInteger[]? left, BigInteger[]? right)
    {
        for (var i = 0; i < Math.Max(left!.Length, right!.Length); i++)
        {
            var compared = (i < left.Length ? left[i] : 0).CompareTo(i < right.Length ? right[i] : 0);
            if (compared != 0)
            {
                return compared;
            }
        }

        return 0;
    }

    /// <summary>
    /// Compares <c>pg_dump --schema-only</c> of both databases, without the tool's own schema. Owners stay in: which
    /// role owns what is exactly what a SET ROLE leaking from one migration into the next would change.
    /// </summary>
    private static async Task AssertSameSchemaAsync(string built, string reference)
    {
        var folder = Directory.CreateTempSubdirectory("migrationtasks-flyway-").FullName;
        var builtDump = Path.Combine(folder, "dotnet-build.sql");
        var referenceDump = Path.Combine(folder, "psql.sql");
        foreach (var (database, dump) in new[] { (built, builtDump), (reference, referenceDump) })
        {
            var (exitCode, output) = await RunAsync(database, "pg_dump", "--schema-only", "--exclude-schema=migrationtasks", "-f", dump);
            Assert.That(exitCode, Is.EqualTo(0), output);
            // pg_dump 15.14 and later wraps its output in \restrict <random key> ... \unrestrict <same key>.
            File.WriteAllLines(dump, File.ReadAllLines(dump).Where(line => !line.StartsWith(@"\restrict", StringComparison.Ordinal) && !line.StartsWith(@"\unrestrict", StringComparison.Ordinal)));
        }

        if (File.ReadAllText(builtDump) != File.ReadAllText(referenceDump))
        {
            var (_, diff) = await ProcessRunner.RunAsync("diff", ["-u", referenceDump, builtDump], folder);
            Assert.Fail($"dotnet build and psql -f gave different schemas (- psql, + dotnet build):\n{diff}");
        }
    }

    /// <summary>Runs a PostgreSQL client program against a database; the connection goes through PG* variables, never the command line.</summary>
    private static Task<(int ExitCode, string Output)> RunAsync(string connectionString, string program, params string[] arguments)
    {
        var connection = new NpgsqlConnectionStringBuilder(connectionString);
        var environment = new Dictionary<string, string?>
        {
            ["PGHOST"] = connection.Host,
            ["PGPORT"] = connection.Port.ToString(CultureInfo.InvariantCulture),
            ["PGUSER"] = connection.Username,
            ["PGDATABASE"] = connection.Database,
            ["PGPASSWORD"] = connection.Password,
            // The reference session must be a default one, whatever the machine's environment says.
            ["PGOPTIONS"] = null,
            ["PGSERVICE"] = null,
        };
        return ProcessRunner.RunAsync(ClientProgram(program), arguments, History, environment);
    }

    /// <summary>psql or pg_dump of the server's own version: next to its initdb, which PATH may reach through a link.</summary>
    private static string ClientProgram(string name)
    {
        var initdb = Path.Combine(PostgresBinaries.FindBinDirectory()!, "initdb");
        var serverBin = Path.GetDirectoryName(File.ResolveLinkTarget(initdb, returnFinalTarget: true)?.FullName ?? initdb)!;
        var beside = Path.Combine(serverBin, name);
        return File.Exists(beside) ? beside : name;
    }
}
