namespace MigrationTasks.Tasks.Tests;

/// <summary>
/// A stand-in for the <c>migrate</c> CLI, run by the task as <c>dotnet MigrationTasks.Tasks.Tests.dll @file</c>. It
/// records what it was given (its arguments, the response file, the variable the connection names) into
/// <see cref="RecordVariable"/>'s folder, prints the lines of the files <see cref="StandardOutputVariable"/> and
/// <see cref="StandardErrorVariable"/> name, and exits with <see cref="ExitCodeVariable"/>. The test sets these
/// through the task's own EnvironmentVariables parameter, so nothing of the test process's environment changes.
/// </summary>
public static class FakeMigrate
{
    public const string RecordVariable = "FAKE_MIGRATE_RECORD";
    public const string StandardOutputVariable = "FAKE_MIGRATE_STDOUT";
    public const string StandardErrorVariable = "FAKE_MIGRATE_STDERR";
    public const string ExitCodeVariable = "FAKE_MIGRATE_EXIT";

    public const string ArgumentsFile = "arguments.txt";
    public const string ResponseFile = "response.rsp";
    public const string ConnectionFile = "connection.txt";

    public static int Main(string[] args)
    {
        var record = Environment.GetEnvironmentVariable(RecordVariable)
            ?? throw new InvalidOperationException($"{RecordVariable} is not set: this entry point is the tests' fake migrate CLI.");
        File.WriteAllLines(Path.Combine(record, ArgumentsFile), args);
        foreach (var arg in args.Where(a => a.StartsWith('@')))
        {
            File.Copy(arg[1..], Path.Combine(record, ResponseFile), overwrite: true);
            var lines = File.ReadAllLines(arg[1..]);
            var variable = Array.IndexOf(lines, "--connection-variable");
            if (variable >= 0 && variable + 1 < lines.Length)
            {
                // What the real CLI does with the name: read the connection string from the inherited environment.
                File.WriteAllText(Path.Combine(record, ConnectionFile), Environment.GetEnvironmentVariable(lines[variable + 1]) ?? "");
            }
        }

        Print(StandardOutputVariable, Console.Out);
        Print(StandardErrorVariable, Console.Error);
        return int.Parse(Environment.GetEnvironmentVariable(ExitCodeVariable) ?? "0", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Print(string variable, TextWriter writer)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } file)
        {
            foreach (var line in File.ReadAllLines(file))
            {
                writer.WriteLine(line);
            }
        }
    }
}
