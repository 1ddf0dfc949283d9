using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Schema;

namespace MigrationTasks.SqlServer.Tests.Schema;

public sealed class CodeAnalysisRulesTests
{
    private const string SelectStar = "Microsoft.Rules.Data.SR0001";
    private const string SpPrefix = "Microsoft.Rules.Data.SR0016";

    [Test]
    public void Every_rule_is_a_warning_unless_the_project_says_otherwise()
    {
        Assert.That(CodeAnalysisRules.Parse(null).ActionFor(SelectStar, "SR0001"), Is.EqualTo(CodeAnalysisRuleAction.Warning));
        Assert.That(CodeAnalysisRules.Parse("").ActionFor(SelectStar, "SR0001"), Is.EqualTo(CodeAnalysisRuleAction.Warning));
    }

    [Test]
    public void Minus_disables_and_plus_bang_makes_errors_by_short_or_full_id_in_any_case()
    {
        var rules = CodeAnalysisRules.Parse(" -sr0001 ; +!Microsoft.Rules.Data.SR0016 ");

        Assert.That(rules.ActionFor(SelectStar, "SR0001"), Is.EqualTo(CodeAnalysisRuleAction.Disabled));
        Assert.That(rules.ActionFor(SpPrefix, "SR0016"), Is.EqualTo(CodeAnalysisRuleAction.Error));
        Assert.That(rules.ActionFor("Microsoft.Rules.Data.SR0005", "SR0005"), Is.EqualTo(CodeAnalysisRuleAction.Warning));
    }

    [Test]
    public void A_trailing_star_names_every_rule_that_starts_so_and_later_entries_win()
    {
        var rules = CodeAnalysisRules.Parse("-SR*;+!SR0016;+SR0001");

        Assert.That(rules.ActionFor("Microsoft.Rules.Data.SR0005", "SR0005"), Is.EqualTo(CodeAnalysisRuleAction.Disabled));
        Assert.That(rules.ActionFor(SpPrefix, "SR0016"), Is.EqualTo(CodeAnalysisRuleAction.Error));
        Assert.That(rules.ActionFor(SelectStar, "SR0001"), Is.EqualTo(CodeAnalysisRuleAction.Warning));
    }

    [TestCase("SR0001")]
    [TestCase("!SR0001")]
    [TestCase("-")]
    [TestCase("+!")]
    [TestCase("-SR*01")]
    [TestCase("-SR 0001")]
    public void An_entry_that_is_not_minus_plus_or_plus_bang_a_rule_is_MIG1001(string entry)
    {
        var e = Assert.Throws<DiagnosticException>(() => CodeAnalysisRules.Parse("-SR0005;" + entry))!;

        Assert.That(e.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.InvalidOption));
        Assert.That(e.Diagnostics.Single().Message, Does.Contain($"entry '{entry.Trim()}'"));
    }

    [Test]
    public void Entries_that_name_no_known_rule_are_listed_so_a_typo_is_not_ignored()
    {
        var known = new[] { (SelectStar, "SR0001"), (SpPrefix, "SR0016") };

        Assert.That(CodeAnalysisRules.Parse("-SR001;+!SR0016;-XX*;-SR00*").Unmatched(known), Is.EqualTo(new[] { "SR001", "XX*" }));
    }

    [TestCase("-SR*", true)]
    [TestCase("+!SR0001;-sr*", true)]
    [TestCase("-*", true)]
    [TestCase("-Microsoft.Rules.*;-SR0001", true)]
    [TestCase("-SR*;+SR0001", false)]
    [TestCase("-SR00*", false)]
    [TestCase("-SR0001", false)]
    [TestCase("", false)]
    public void Every_rule_disabled_is_known_without_asking_DacFx_for_its_rules(string expression, bool everything)
    {
        Assert.That(CodeAnalysisRules.Parse(expression).DisablesEverything, Is.EqualTo(everything));
    }

    [Test]
    public void Every_rule_DacFx_has_is_named_by_SR_star_so_that_skipping_its_discovery_skips_no_rule()
    {
        using var model = new Microsoft.SqlServer.Dac.Model.TSqlModel(Microsoft.SqlServer.Dac.Model.SqlServerVersion.Sql160, new Microsoft.SqlServer.Dac.Model.TSqlModelOptions());
        var service = new Microsoft.SqlServer.Dac.CodeAnalysis.CodeAnalysisServiceFactory().CreateAnalysisService(model, new Microsoft.SqlServer.Dac.CodeAnalysis.CodeAnalysisServiceSettings());
        var rules = service.GetRules().ToList();

        Assert.That(rules, Is.Not.Empty);
        Assert.That(rules.Select(r => r.ShortRuleId), Has.All.StartWith("SR"));
        Assert.That(rules.Select(r => r.RuleId), Has.All.StartWith("Microsoft.Rules."));
    }
}
