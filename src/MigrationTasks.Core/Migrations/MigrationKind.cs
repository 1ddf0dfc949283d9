namespace MigrationTasks.Migrations;

public enum MigrationKind
{
    /// <summary><c>V&lt;version&gt;__&lt;description&gt;.sql</c>: applied once, in version order.</summary>
    Versioned,

    /// <summary><c>R__&lt;description&gt;.sql</c>: applied after the versioned ones whenever its checksum changes.</summary>
    Repeatable,

    /// <summary><c>U&lt;version&gt;__&lt;description&gt;.sql</c>: reverts the versioned migration of the same version.</summary>
    Undo,
}
