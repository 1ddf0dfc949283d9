using MigrationTasks.PostgreSql.Ephemeral;
using Npgsql;

namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// The build's dev deploy killed (kill -9) or cancelled (SIGTERM) while it moves the cached state forward, as a
/// developer's Ctrl+C or a killed IDE build does: the next build must succeed on its own, prove the chain, leave the
/// throwaway dev database holding exactly the project's migrations, and no server behind.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class DevLoopKillTests
{
    private const string Slow = "CREATE TABLE slow (id int);\nSELECT pg_sleep(60);";

    [TestCase(false, TestName = "A dev deploy killed with -9 while it moves the cached state forward is finished by the next build")]
    [TestCase(true, TestName = "A dev deploy stopped with SIGTERM while it moves the cached state forward is finished by the next build")]
    public async Task Interrupted_dev_deploy_is_finished_by_the_next_build(bool terminate)
    {
        var project = Directory.CreateDirectory(ScratchFolder.PathFor("devloop-" + Guid.NewGuid().ToString("N"))).FullName;
        var state = Path.Combine(project, "obj");
        for (var i = 1; i <= 3; i++)
        {
            File.WriteAllText(Path.Combine(project, $"V{i}__t{i}.sql"), $"CREATE TABLE t{i} (id int PRIMARY KEY);\nINSERT INTO t{i} VALUES ({i});");
        }

        var slow = Path.Combine(project, "V4__slow.sql");
        File.WriteAllText(slow, Slow);
        File.WriteAllText(Path.Combine(project, "V5__newest.sql"), "CREATE TABLE newest (id int);");

        using (var first = Start(project, state))
        {
            await first.WaitForOutputAsync("applying V4__slow.sql", TimeSpan.FromMinutes(2));
            await Task.Delay(500);
            if (terminate)
            {
                first.Terminate();
            }
            else
            {
                first.Kill();
            }

            var (exitCode, output) = await first.WaitForExitAsync(TimeSpan.FromMinutes(2));
            Assert.That(exitCode, Is.Not.EqualTo(0), output);
        }

        // V4 never committed anywhere: the developer may still change it, as after any failed build.
        File.WriteAllText(slow, "CREATE TABLE slow (id int);");
        using (var second = Start(project, state))
        {
            var (exitCode, output) = await second.WaitForExitAsync(TimeSpan.FromMinutes(3));
            Assert.That(exitCode, Is.EqualTo(0), output);
            Assert.That(output, Does.Contain("Shadow: every migration proven"));
        }

        var data = Path.Combine(state, "devdb");
        Assert.That(File.Exists(Path.Combine(data, "postmaster.pid")), Is.False, "no server is left running");
        Assert.That(ServersOn(data), Is.Empty, "nor the killed build's, which the next build stopped before it started its own");
        await using var cluster = await EphemeralPostgresCluster.StartAsync(data);
        try
        {
            var history = await QueryAsync(cluster.ConnectionString("dev"), "SELECT script FROM migrationtasks.history WHERE outcome = 'success' ORDER BY id");
            Assert.That(history, Is.EqualTo(new[] { "V1__t1.sql", "V2__t2.sql", "V3__t3.sql", "V4__slow.sql", "V5__newest.sql" }));
            var databases = await QueryAsync(cluster.ConnectionString(), "SELECT datname FROM pg_database WHERE datname LIKE 'mt_%' ORDER BY 1");
            Assert.That(databases, Has.Count.EqualTo(1).And.None.EndsWith("_new").And.None.EqualTo("mt_shadow"), "what the interrupted build left was dropped");
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    /// <summary>The postmasters whose command line names the data directory (Linux: /proc).</summary>
    private static List<string> ServersOn(string data) =>
        [.. Directory.EnumerateDirectories("/proc")
            .Select(p => { try { return File.ReadAllText(Path.Combine(p, "cmdline")).Replace('\0', ' '); } catch (IOException) { return ""; } catch (UnauthorizedAccessException) { return ""; } })
            .Where(c => c.Contains("postgres", StringComparison.Ordinal) && c.Contains(data, StringComparison.Ordinal))];

    private static RunnerProcess Start(string project, string state)
    {
        var arguments = new List<string> { "deploy-dev", "--engine", "PostgreSql", "--state-dir", state };
        foreach (var file in Directory.EnumerateFiles(project, "*.sql").Order(StringComparer.Ordinal))
        {
            arguments.AddRange(["--migration", file]);
        }

        return RunnerProcess.Start(Path.Combine(ReleaseWorkshop.CliDirectory, "migrate.dll"), arguments, new Dictionary<string, string>());
    }

    private static async Task<List<string>> QueryAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
