using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.PostgreSql.Tests.Engine;
using MigrationTasks.Release;
using MigrationTasks.Staging;

namespace MigrationTasks.PostgreSql.Tests.Release;

/// <summary>
/// The package step on real PostgreSQL: a production database, its exported baseline, and the release written for
/// it — what is pending, what the manifest expects before and after, and whether the expectations are true.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class ReleaseWriterTests
{
    private static readonly PostgresEngine Engine = new();

    /// <summary>"Production": V1 and V2 applied; V3 (with its undo), V4 (outside a transaction) and R__ are new.</summary>
    private static async Task<(MigrationWorkspace Production, string Baseline)> ProductionWithBaselineAsync()
    {
        var production = await MigrationWorkspace.CreateAsync();
        production.Write("V1__customer.sql", "CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL);");
        production.Write("V2__orders.sql", "CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customer);");
        Assert.That(await production.DeployAsync(), Is.Empty, production.Output);
        var baseline = await ExportBaselineAsync(production);
        production.Write("V3__email.sql", "ALTER TABLE customer ADD COLUMN email text;");
        production.Write("U3__email.sql", "ALTER TABLE customer DROP COLUMN email;");
        production.Write("V4__orders_by_customer.sql", "CREATE INDEX CONCURRENTLY orders_customer ON orders (customer_id);");
        production.Write("R__customer_names.sql", "CREATE OR REPLACE VIEW customer_names AS SELECT name FROM customer;");
        return (production, baseline);
    }

    private static async Task<string> ExportBaselineAsync(MigrationWorkspace production)
    {
        await using var database = await Engine.ConnectAsync(production.ConnectionString, CancellationToken.None);
        var path = production.Write("../baseline-" + Guid.NewGuid().ToString("N")[..6] + ".json", "");
        (await MigrationBaseline.ExportAsync(Engine.Name, database, CancellationToken.None)).Save(path);
        return path;
    }

    private static async Task<string> SchemaHashAsync(string connectionString)
    {
        await using var database = await Engine.ConnectAsync(connectionString, CancellationToken.None);
        return (await database.ReadSchemaAsync(CancellationToken.None)).Hash;
    }

    private static async Task<(ReleaseManifest Manifest, string Release, string Output)> PackageAsync(
        MigrationWorkspace project, string? baseline, string? certificate = null, string? stagingReport = null)
    {
        // Not CreateTempSubdirectory: its mode 700 would keep the throwaway server (run as postgres) out of obj/.
        var publish = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "migrationtasks-publish-" + Guid.NewGuid().ToString("N"))).FullName;
        var checks = project.Write("checks/orders_have_customers.sql", "SELECT id FROM orders WHERE customer_id IS NULL;");
        var verify = project.Write("verify/deep/email_column_exists.sql", "SELECT 1 WHERE NOT EXISTS (SELECT FROM information_schema.columns WHERE column_name = 'email');");
        // A runner of two files, and the state folder beside the publish folder (as obj/ is beside bin/): a running
        // throwaway server's files inside it would be listed as package files.
        var runner = Directory.CreateDirectory(publish + "-runner").FullName;
        File.WriteAllText(Path.Combine(runner, "migrate.dll"), "MZ the runner");
        File.WriteAllText(Path.Combine(runner, "migrate.runtimeconfig.json"), "{}");
        var output = new StringWriter();
        var manifest = await new ReleaseWriter(Engine, new Reporter(output)).WriteAsync(
            new ReleaseOptions(project.Files, [checks], [verify], publish, "Shop", "2.1.0", publish + "-obj", baseline, certificate, stagingReport, Path.GetDirectoryName(checks), runner),
            CancellationToken.None);
        return (manifest, Path.Combine(publish, ReleaseLayout.FolderName), output.ToString());
    }

    [Test]
    public async Task Against_a_baseline_the_release_carries_only_what_production_lacks_and_its_expectations_hold()
    {
        var (production, baseline) = await ProductionWithBaselineAsync();
        var baselineHash = await SchemaHashAsync(production.ConnectionString);

        var (manifest, release, output) = await PackageAsync(production, baseline);

        Assert.That(manifest.Files.Select(f => $"{f.Role} {f.Path}"), Is.EqualTo(new[]
        {
            "Baseline baseline.json",
            "Check checks/orders_have_customers.sql",
            "Migration migrations/R__customer_names.sql",
            "Migration migrations/U3__email.sql",
            "Migration migrations/V3__email.sql",
            "Migration migrations/V4__orders_by_customer.sql",
            "Plan plan.md",
            "Verify verify/email_column_exists.sql",
        }), output);
        Assert.That(manifest.ExpectedPreState.EmptyDatabase, Is.False);
        Assert.That(manifest.ExpectedPreState.BaselineFile, Is.EqualTo("baseline.json"));
        Assert.That(manifest.ExpectedPreState.History!.Select(h => $"{h.Version} {h.Script}"), Is.EqualTo(new[] { "1 V1__customer.sql", "2 V2__orders.sql" }));
        Assert.That(manifest.ExpectedPreState.History![0].Checksum, Is.EqualTo(Common.Sha256.Hex(File.ReadAllBytes(production.Files.Single(f => f.EndsWith("V1__customer.sql", StringComparison.Ordinal))))));
        Assert.That(manifest.ExpectedPreState.SchemaHash, Is.EqualTo(baselineHash));
        Assert.That(output, Does.Not.Contain("MIG5003"), "production is what its history builds");
        Assert.That(output, Does.Contain("3 migration(s) to apply (V3__email.sql, V4__orders_by_customer.sql, R__customer_names.sql)"));

        // The expected post-state is what production really becomes.
        Assert.That(await production.DeployAsync(), Is.Empty, production.Output);
        Assert.That(manifest.ExpectedPostState!.SchemaHash, Is.EqualTo(await SchemaHashAsync(production.ConnectionString)));
        Assert.That(manifest.ExpectedPostState.SchemaHash, Is.Not.EqualTo(baselineHash));

        var plan = File.ReadAllText(Path.Combine(release, ReleaseLayout.PlanName));
        Assert.That(plan, Does.Contain("**Backup** (required)").And.Contain("`V4__orders_by_customer.sql` run(s) outside a transaction"));
        Assert.That(plan, Does.Contain("| 1 | `V3__email.sql` | 1 | in one transaction | its transaction rolls back"));
        Assert.That(plan, Does.Contain("`migrations/U3__email.sql` undoes `V3__email.sql`"));
        Assert.That(manifest.PackageFiles.Select(f => f.Path), Is.EqualTo(new[] { "migrate.dll", "migrate.runtimeconfig.json" }), "the runner is signed with the release");
        Assert.That(ReleaseVerifier.Verify(release, null, allowUnsigned: true).Passed, Is.True);
        Assert.That(File.ReadAllText(Path.Combine(release, "baseline.json")), Is.EqualTo(File.ReadAllText(baseline)));
    }

    [Test]
    public async Task A_production_changed_by_hand_is_warned_MIG5003_at_its_baseline_file()
    {
        var production = await MigrationWorkspace.CreateAsync();
        production.Write("V1__customer.sql", "CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL);");
        Assert.That(await production.DeployAsync(), Is.Empty, production.Output);
        await production.QueryAsync("CREATE INDEX customer_name_by_hand ON customer (name); SELECT 1");
        var baseline = await ExportBaselineAsync(production);

        var (manifest, _, output) = await PackageAsync(production, baseline);

        Assert.That(output, Does.Contain($"{baseline}: warning MIG5003: production's baseline differs from what its history produces"));
        Assert.That(manifest.ExpectedPreState.SchemaHash, Is.EqualTo(await SchemaHashAsync(production.ConnectionString)), "the deploy expects production as exported");
    }

    [Test]
    public async Task A_baseline_whose_applied_migration_was_edited_since_fails_the_package_with_MIG7001()
    {
        var (production, baseline) = await ProductionWithBaselineAsync();
        var edited = production.Write("V2__orders.sql", "CREATE TABLE orders (id bigint PRIMARY KEY);");

        var error = Assert.ThrowsAsync<DiagnosticException>(() => PackageAsync(production, baseline))!.Diagnostics.First(d => d.IsError);

        Assert.That(error.Code, Is.EqualTo(DiagnosticCodes.AppliedMigrationChanged));
        Assert.That(error.File, Is.EqualTo(edited));
    }

    [Test]
    public async Task Without_a_baseline_the_release_expects_an_empty_database_and_carries_every_migration()
    {
        var project = await MigrationWorkspace.CreateAsync();
        project.Write("V1__customer.sql", "CREATE TABLE customer (id int PRIMARY KEY);");
        project.Write("V2__name.sql", "ALTER TABLE customer ADD COLUMN name text;");
        var reportFolder = Directory.CreateTempSubdirectory("migrationtasks-staging-").FullName;
        StagingReportWriter.Write(
            new StagingReport("staging", DateTimeOffset.UtcNow, [], [], [], [], new RehearsalOutcome("on staging", 1234, ["V1__customer.sql", "V2__name.sql"], null), []),
            reportFolder);

        var (manifest, _, output) = await PackageAsync(project, null, stagingReport: Path.Combine(reportFolder, StagingReportWriter.JsonName));

        Assert.That(output, Does.Contain("No MigrationBaseline: the release expects an empty database"));
        Assert.That(output, Does.Contain("The release is not signed"));
        Assert.That(manifest.ExpectedPreState.EmptyDatabase, Is.True);
        Assert.That(manifest.ExpectedPreState.History, Is.Empty);
        Assert.That(manifest.ExpectedPreState.SchemaHash, Is.EqualTo(await SchemaHashAsync(project.ConnectionString)), "the hash of a new, empty database");
        Assert.That(manifest.FilesWithRole(ReleaseFileRole.Migration).Select(f => f.Path), Is.EqualTo(new[] { "migrations/V1__customer.sql", "migrations/V2__name.sql" }));
        Assert.That(manifest.RehearsalDuration, Is.EqualTo(TimeSpan.FromMilliseconds(1234)), "staging rehearsed exactly these migrations");
        Assert.That(manifest.SourceRevision, Is.Null, "a temp folder is outside git");
    }

    [Test]
    public async Task A_release_signed_with_a_PEM_certificate_verifies_against_its_thumbprint_and_a_new_package_replaces_the_old()
    {
        var project = await MigrationWorkspace.CreateAsync();
        project.Write("V1__customer.sql", "CREATE TABLE customer (id int PRIMARY KEY);");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=Shop Releases", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var pem = project.Write("signing.pem", certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem());

        var (_, release, output) = await PackageAsync(project, null, pem);

        Assert.That(output, Does.Contain($"SHA-256 thumbprint {ReleaseTrust.ThumbprintOf(certificate)}"));
        var verified = ReleaseVerifier.Verify(release, ReleaseTrust.ThumbprintOf(certificate), allowUnsigned: false);
        Assert.That(verified.Diagnostics, Is.Empty);
        Assert.That(verified.Signer, Does.Contain("CN=Shop Releases"));
    }

    [Test]
    public async Task Exporting_a_baseline_changes_nothing_even_on_a_database_without_history()
    {
        var empty = await MigrationWorkspace.CreateAsync();

        var baseline = MigrationBaseline.Load(await ExportBaselineAsync(empty));

        Assert.That(baseline.History, Is.Empty);
        Assert.That(baseline.Engine, Is.EqualTo("PostgreSql"));
        Assert.That(await empty.ScalarAsync("SELECT to_regnamespace('migrationtasks') IS NULL"), Is.EqualTo("t"), "no history schema was created");
    }
}
