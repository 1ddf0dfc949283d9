using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Schema;
using MigrationTasks.SqlServer.Scripts;
using Microsoft.SqlServer.Dac.Model;

namespace MigrationTasks.SqlServer.Tests.Schema;

public sealed class SqlServerPlatformTests
{
    [TestCase(null, SqlServerVersion.Sql160)]
    [TestCase("", SqlServerVersion.Sql160)]
    [TestCase("Sql130", SqlServerVersion.Sql130)]
    [TestCase("sql150", SqlServerVersion.Sql150)]
    [TestCase("Sql170", SqlServerVersion.Sql170)]
    [TestCase("AzureV12", SqlServerVersion.SqlAzure)]
    [TestCase("Microsoft.Data.Tools.Schema.Sql.Sql130DatabaseSchemaProvider", SqlServerVersion.Sql130)]
    [TestCase("Microsoft.Data.Tools.Schema.Sql.Sql150DatabaseSchemaProvider", SqlServerVersion.Sql150)]
    [TestCase("Microsoft.Data.Tools.Schema.Sql.SqlAzureV12DatabaseSchemaProvider", SqlServerVersion.SqlAzure)]
    public void MigrationSqlServerVersion_names_the_DacFx_model_version(string? name, SqlServerVersion expected)
    {
        Assert.That(SqlServerPlatform.Parse(name).Version, Is.EqualTo(expected));
    }

    [Test]
    public void An_unknown_version_is_MIG1001_naming_the_valid_ones()
    {
        var e = Assert.Throws<DiagnosticException>(() => SqlServerPlatform.Parse("Sql2022"))!;

        Assert.That(e.Diagnostics.Single().ToString(), Is.EqualTo(
            "migrate: error MIG1001: MigrationSqlServerVersion (or DSP) 'Sql2022' is not a SQL Server version this package builds for; use one of Sql130, Sql140, Sql150, Sql160, Sql170, AzureV12."));
    }

    [Test]
    public void The_syntax_check_follows_the_version_IS_DISTINCT_FROM_needs_Sql160()
    {
        const string sql = "SELECT 1 WHERE 1 IS DISTINCT FROM 2;";

        var (older, olderErrors) = TSqlScriptParser.Parse(SqlServerPlatform.Parse("Sql150"), "q.sql", sql);
        var (newer, newerErrors) = TSqlScriptParser.Parse(SqlServerPlatform.Parse("Sql160"), "q.sql", sql);

        Assert.That(older, Is.Null);
        Assert.That(olderErrors.Single().ToString(), Is.EqualTo("q.sql(1,21): error MIG2010: T-SQL syntax error (Sql150): Incorrect syntax near 'DISTINCT'. (ScriptDom 46010)"));
        Assert.That(newer, Is.Not.Null);
        Assert.That(newerErrors, Is.Empty);
    }
}
