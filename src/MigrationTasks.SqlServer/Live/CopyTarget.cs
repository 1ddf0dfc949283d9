namespace MigrationTasks.SqlServer.Live;

/// <summary>The source database, the copy's name and the server folders and files it is made with.</summary>
internal sealed record CopyTarget(string Source, string Name, string Stem, string BackupFile, string BackupFolder, string DataFolder, string LogFolder)
{
    /// <summary>The copy of <paramref name="source"/> named with <paramref name="suffix"/>, its backup file in <paramref name="backupFolder"/>.</summary>
    public static CopyTarget For(string source, string suffix, string backupFolder, string dataFolder, string logFolder)
    {
        var stem = SqlServerCopyNames.FileStem(source, suffix);
        return new CopyTarget(
            source,
            SqlServerCopyNames.CopyName(source, suffix),
            stem,
            SqlServerPaths.Join(backupFolder, stem + SqlServerBackups.DumpExtension),
            backupFolder,
            dataFolder,
            logFolder);
    }

    /// <summary>How the shared backup error table words this copy's failures.</summary>
    public BackupScene Scene => BackupScene.ForCopy(Source, BackupFolder, DataFolder);
}
