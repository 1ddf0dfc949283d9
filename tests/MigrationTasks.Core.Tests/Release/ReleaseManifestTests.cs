using System.Text.Json;
using MigrationTasks.Release;

namespace MigrationTasks.Core.Tests.Release;

public sealed class ReleaseManifestTests
{
    private static ReleaseManifest Sample() => new(
        ReleaseManifest.CurrentSchemaVersion,
        "Shop",
        "2.0.0",
        "PostgreSql",
        ExpectedStateKind.SchemaSnapshot,
        new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero),
        "0123456789abcdef0123456789abcdef01234567",
        new ExpectedPreState(false, "baseline.json", [new AppliedMigration("1", "V1__a.sql", "aa"), new AppliedMigration(null, "R__v.sql", "bb")], "cc"),
        new ExpectedPostState("dd"),
        [new ReleaseFile("plan.md", "11", ReleaseFileRole.Plan), new ReleaseFile("migrations/V2__b.sql", "22", ReleaseFileRole.Migration)],
        [new PackageFile("migrate.runtimeconfig.json", "33"), new PackageFile("migrate.dll", "44"), new PackageFile("plan.md", "55")],
        TimeSpan.FromMilliseconds(1500));

    [Test]
    public void It_is_camelCase_JSON_in_a_stable_order_with_files_sorted_by_path()
    {
        var json = Sample().ToJson();

        using var document = JsonDocument.Parse(json);
        Assert.That(document.RootElement.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[]
        {
            "schemaVersion", "packageId", "version", "engine", "expectedState", "created", "sourceRevision", "expectedPreState",
            "expectedPostState", "files", "packageFiles", "rehearsalDuration", "allowDataLoss", "statementLockTimeout",
        }));
        Assert.That(document.RootElement.GetProperty("schemaVersion").GetInt32(), Is.EqualTo(3));
        Assert.That(document.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()),
            Is.EqualTo(new[] { "migrations/V2__b.sql", "plan.md" }));
        Assert.That(document.RootElement.GetProperty("packageFiles").EnumerateArray().Select(f => $"{f.GetProperty("path").GetString()} {f.GetProperty("sha256").GetString()}"),
            Is.EqualTo(new[] { "migrate.dll 44", "migrate.runtimeconfig.json 33", "plan.md 55" }));
        Assert.That(document.RootElement.GetProperty("files")[0].GetProperty("role").GetString(), Is.EqualTo("migration"));
        Assert.That(document.RootElement.GetProperty("expectedPreState").GetProperty("history")[1].GetProperty("version").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(document.RootElement.GetProperty("allowDataLoss").GetBoolean(), Is.False);
        Assert.That(json, Does.Not.Contain("\r"));
        Assert.That(Sample().ToJson(), Is.EqualTo(json), "the same manifest always has the same bytes");
    }

    [Test]
    public void It_reads_back_what_it_wrote()
    {
        var read = ReleaseManifest.Parse(Sample().ToJson());

        Assert.That(read.ExpectedPreState.History, Is.EqualTo(Sample().ExpectedPreState.History));
        Assert.That(read.Files.Select(f => f.Path), Is.EqualTo(new[] { "migrations/V2__b.sql", "plan.md" }));
        Assert.That(read.PackageFiles, Is.EqualTo(Sample().PackageFiles.OrderBy(f => f.Path, StringComparer.Ordinal)));
        Assert.That(read.RehearsalDuration, Is.EqualTo(TimeSpan.FromMilliseconds(1500)));
        Assert.That(read.ExpectedPreState with { History = [] }, Is.EqualTo(Sample().ExpectedPreState with { History = [] }));
        Assert.That((read.PackageId, read.Version, read.Engine, read.Created, read.SourceRevision, read.ExpectedPostState),
            Is.EqualTo((Sample().PackageId, Sample().Version, Sample().Engine, Sample().Created, Sample().SourceRevision, Sample().ExpectedPostState)));
    }

    [TestCase("{}", "schemaVersion is 0")]
    [TestCase("{\"schemaVersion\":1}", "schemaVersion is 1, and this runner reads version 3")]
    [TestCase("{\"schemaVersion\":2}", "schemaVersion is 2, and this runner reads version 3")]
    [TestCase("{\"schemaVersion\":3}", "lacks packageId")]
    [TestCase("{\"schemaVersion\":3,\"packageId\":\"p\",\"version\":\"1\",\"engine\":\"PostgreSql\",\"expectedPreState\":{\"history\":[]},\"files\":[],\"packageFiles\":[]}", "lacks expectedState")]
    [TestCase("{\"schemaVersion\":3,\"packageId\":\"p\",\"version\":\"1\",\"engine\":\"SqlServer\",\"expectedState\":\"catalogFingerprint\",\"expectedPreState\":{\"history\":null},\"expectedPostState\":{\"schemaHash\":\"aa\"},\"files\":[],\"packageFiles\":[]}", "lacks the catalogFingerprint")]
    [TestCase("[1,2]", "not valid manifest JSON")]
    [TestCase("{\"schemaVersion\":3,\"packageId\":\"p\",\"version\":\"1\",\"engine\":\"PostgreSql\",\"expectedState\":\"schemaSnapshot\",\"expectedPreState\":{\"history\":[null]},\"files\":[],\"packageFiles\":[]}", "history entry lacks")]
    [TestCase("{\"schemaVersion\":3,\"packageId\":\"p\",\"version\":\"1\",\"engine\":\"PostgreSql\",\"expectedState\":\"schemaSnapshot\",\"expectedPreState\":{\"history\":[{\"version\":\"1\"}]},\"files\":[],\"packageFiles\":[]}", "history entry lacks")]
    [TestCase("{\"schemaVersion\":3,\"packageId\":\"p\",\"version\":\"1\",\"engine\":\"PostgreSql\",\"expectedState\":\"schemaSnapshot\",\"expectedPreState\":{\"history\":[]},\"expectedPostState\":{},\"files\":[],\"packageFiles\":[]}", "expectedPostState lacks")]
    public void A_manifest_it_cannot_trust_is_refused_with_the_reason(string json, string reason)
    {
        Assert.That(() => ReleaseManifest.Parse(json), Throws.InstanceOf<InvalidDataException>().With.Message.Contains(reason));
    }

    [Test]
    public void A_version_2_manifest_without_packageFiles_is_refused()
    {
        var json = Sample().ToJson();
        var withoutPackageFiles = System.Text.RegularExpressions.Regex.Replace(json, @"  ""packageFiles"": \[[^\]]*\],\n", "");

        Assert.That(withoutPackageFiles, Does.Not.Contain("packageFiles"));
        Assert.That(() => ReleaseManifest.Parse(withoutPackageFiles), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("packageFiles"));
    }

    [Test]
    public void A_manifest_listing_a_package_file_twice_is_refused_but_the_same_name_in_release_and_beside_it_is_not()
    {
        var twice = Sample() with { PackageFiles = [new PackageFile("migrate.dll", "44"), new PackageFile("migrate.dll", "44")] };

        Assert.That(() => ReleaseManifest.Parse(twice.ToJson()), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("'migrate.dll' more than once"));
        Assert.That(ReleaseManifest.Parse(Sample().ToJson()).PackageFiles.Select(f => f.Path), Does.Contain("plan.md"), "release/plan.md and plan.md beside it are two files");
    }

    [Test]
    public void A_manifest_listing_a_path_twice_is_refused()
    {
        var twice = Sample() with { Files = [new ReleaseFile("plan.md", "11", ReleaseFileRole.Plan), new ReleaseFile("plan.md", "11", ReleaseFileRole.Plan)] };

        Assert.That(() => ReleaseManifest.Parse(twice.ToJson()), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("more than once"));
    }
}
