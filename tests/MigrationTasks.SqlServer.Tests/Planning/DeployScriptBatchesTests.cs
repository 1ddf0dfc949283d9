using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Planning;
using MigrationTasks.SqlServer.Schema;

namespace MigrationTasks.SqlServer.Tests.Planning;

/// <summary>DacFx's SQLCMD-mode script into plain batches: what is handled, and what is refused at its line.</summary>
public sealed class DeployScriptBatchesTests
{
    [Test]
    public void Setvar_values_are_substituted_and_the_database_name_is_the_projects()
    {
        const string script = ":setvar DatabaseName \"Built\"\n:setvar Region \"eu\"\nGO\n:on error exit\nGO\nUSE [$(DatabaseName)];\nGO\nPRINT N'$(DatabaseName) in $(Region)';\nGO\n";

        var (text, batches) = DeployScriptBatches.ToBatches(script, "Shop", "deploy.sql", SqlServerPlatform.Default);

        Assert.That(batches.Select(b => b.Text), Is.EqualTo(new[] { "PRINT N'Shop in eu';" }));
        Assert.That(text, Is.EqualTo("PRINT N'Shop in eu';\nGO\n\n"));
    }

    [Test]
    public void Another_sqlcmd_command_is_refused_at_its_line()
    {
        var e = Assert.Throws<DiagnosticException>(() => DeployScriptBatches.ToBatches("PRINT 1;\nGO\n:r other.sql\n", "Shop", "deploy.sql", SqlServerPlatform.Default));

        var problem = e!.Diagnostics.Single();
        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.SqlCmdNotSupported));
        Assert.That((problem.File, problem.Line), Is.EqualTo(("deploy.sql", 3)));
        Assert.That(problem.Message, Does.Contain(":r other.sql"));
    }

    [Test]
    public void A_variable_no_setvar_defines_is_refused()
    {
        var e = Assert.Throws<DiagnosticException>(() => DeployScriptBatches.ToBatches("PRINT 1;\nGO\nPRINT '$(Missing)';\n", "Shop", "deploy.sql", SqlServerPlatform.Default));

        Assert.That(e!.Diagnostics.Single().Message, Does.Contain("$(Missing)"));
        Assert.That(e.Diagnostics.Single().Line, Is.EqualTo(3));
    }
}
