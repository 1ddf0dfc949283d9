using MigrationTasks.Diagnostics;

namespace MigrationTasks.Core.Tests;

public sealed class WarningPolicyTests
{
    private static readonly Diagnostic Warning = Diagnostic.Warning("MIG2012", "SR0001: avoid SELECT *", "v.sql", 4, 8);

    [Test]
    public void Without_settings_a_warning_stays_a_warning()
    {
        Assert.That(WarningPolicy.None.Apply(Warning), Is.EqualTo(Warning));
    }

    [Test]
    public void NoWarn_silences_a_code_even_when_it_is_also_in_WarningsAsErrors_as_MSBuild_does()
    {
        var policy = new WarningPolicy(noWarn: "1701;1702, mig2012", warningsAsErrors: "MIG2012");

        Assert.That(policy.Apply(Warning), Is.Null);
    }

    [Test]
    public void WarningsAsErrors_promotes_a_listed_code_and_leaves_the_rest()
    {
        var policy = new WarningPolicy(warningsAsErrors: "NU1603;\n  MIG2012;");

        Assert.That(policy.Apply(Warning)!.ToString(), Is.EqualTo("v.sql(4,8): error MIG2012: SR0001: avoid SELECT *"));
        Assert.That(policy.Apply(Warning with { Code = "MIG2011" })!.IsError, Is.False);
    }

    [Test]
    public void TreatWarningsAsErrors_promotes_every_code_but_those_in_WarningsNotAsErrors()
    {
        var policy = new WarningPolicy(warningsNotAsErrors: "MIG2011", treatWarningsAsErrors: true);

        Assert.That(policy.Apply(Warning)!.IsError, Is.True);
        Assert.That(policy.Apply(Warning with { Code = "MIG2011" })!.IsError, Is.False);
    }

    [Test]
    public void Errors_are_never_silenced()
    {
        var error = Diagnostic.Error("MIG2010", "syntax");

        Assert.That(new WarningPolicy(noWarn: "MIG2010").Apply(error), Is.EqualTo(error));
    }
}
