namespace MigrationTasks.SqlServer.Live;

/// <summary>What the server says it is, read once at connect time.</summary>
/// <param name="EngineEdition">SERVERPROPERTY('EngineEdition'): 5 is Azure SQL Database, 8 Managed Instance.</param>
internal sealed record SqlServerIdentity(string Database, int EngineEdition, string Version);
