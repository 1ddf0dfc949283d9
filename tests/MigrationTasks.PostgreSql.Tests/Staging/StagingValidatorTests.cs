using MigrationTasks.PostgreSql.Tests.Suites;
using MigrationTasks.Tests.Suites;

namespace MigrationTasks.PostgreSql.Tests.Staging;

/// <summary>
/// The staging gate on PostgreSQL where its sessions matter: roles and temporary tables a rehearsed migration leaves
/// behind. Drift, checks and the rehearsal every engine shares are in the shared StagingGateSuite (PostgresStagingGateSuite).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class StagingValidatorTests
{
    [Test]
    public async Task Each_rehearsed_migration_starts_from_a_clean_session_as_it_will_on_deploy()
    {
        var staging = await StagingGateSuite.StagingAsync(PostgresEngineUnderTest.Instance);
        var owner = "app_owner_" + Guid.NewGuid().ToString("N")[..8];
        await staging.QueryAsync($"CREATE ROLE {owner}; GRANT CREATE ON SCHEMA public TO {owner}; SELECT 1");
        staging.Write("V3__as_owner.sql", $"SET ROLE {owner};\nCREATE TABLE owned (a int);\nCREATE TEMP TABLE batch AS SELECT 1 AS id;");
        // Only the deploying user owns customer; as the role this would be "must be owner of table customer".
        staging.Write("V4__as_deployer.sql", "ALTER TABLE customer ADD COLUMN nickname text;\nCREATE TEMP TABLE batch AS SELECT 2 AS id;");

        var (report, output) = await StagingGateSuite.ValidateAsync(staging, findingsAsErrors: true);

        Assert.That(report.Rehearsal!.Failure, Is.Null, output);
        Assert.That(report.Findings, Is.Empty, output);
    }
}
