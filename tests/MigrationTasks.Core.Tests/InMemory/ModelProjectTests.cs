using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;

namespace MigrationTasks.Core.Tests.InMemory;

public sealed class ModelProjectTests
{
    [Test]
    public void An_engine_of_migrations_only_refuses_a_compiled_model_with_MIG1001_naming_it()
    {
        IMigrationEngine engine = new InMemoryEngine();
        var options = new ModelProjectOptions("Db.dacpac", null, null, false, null, [], false, "obj", new Reporter(TextWriter.Null));

        var refusal = Assert.Throws<DiagnosticException>(() => engine.OpenModelProject(options))!;

        Assert.That(refusal.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.InvalidOption));
        Assert.That(refusal.Diagnostics.Single().Message, Does.Contain("InMemory").And.Contain("Db.dacpac"));
    }

    [Test]
    public async Task An_engine_without_a_model_format_exports_no_model_baseline()
    {
        IMigrationEngine engine = new InMemoryEngine();

        Assert.That(await engine.TryExportModelBaselineAsync("memory:shop", "production.dacpac", CancellationToken.None), Is.Null);
    }
}
