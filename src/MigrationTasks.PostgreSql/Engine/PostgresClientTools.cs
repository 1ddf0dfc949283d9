using System.Diagnostics;
using System.Text;
using MigrationTasks.Diagnostics;
using MigrationTasks.PostgreSql.Ephemeral;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>pg_dump, pg_restore and psql from one installation (one version), connected through their environment only.</summary>
internal sealed class PostgresClientTools
{
    private static readonly string[] Programs = ["pg_dump", "pg_restore", "psql"];

    /// <summary>
    /// The end of pg_restore's output that is held back until pg_restore has exited successfully. It holds the
    /// COMMIT of the restore's transaction (followed by a few comment lines), so a pg_restore that dies part-way, on
    /// a truncated or corrupt dump, can never let psql commit the half it already sent.
    /// </summary>
    private const int HeldBackBytes = 64 * 1024;

    private const int ErrorLinesShown = 10;

    private readonly string _directory;

    private PostgresClientTools(string directory) => _directory = directory;

    public string Directory => _directory;

    /// <summary>The tools, or MIG6003 saying what to install.</summary>
    public static PostgresClientTools Find() =>
        TryFind(out var reason) ?? throw new DiagnosticException(Diagnostic.Error(DiagnosticCodes.BackupToolMissing, reason!));

    public static PostgresClientTools? TryFind(out string? reason)
    {
        var directory = PostgresBinaries.FindClientDirectory(Programs);
        if (directory is not null)
        {
            reason = null;
            return new PostgresClientTools(directory);
        }

        var where = Environment.GetEnvironmentVariable(PostgresBinaries.OverrideVariable) is { Length: > 0 } chosen
            ? $"in {chosen} (named by {PostgresBinaries.OverrideVariable})"
            : "beside the PostgreSQL server programs, on the PATH or in /usr/lib/postgresql/<version>/bin";
        reason = $"the PostgreSQL client programs pg_dump, pg_restore and psql were not found together {where}. " +
                 "Install the client programs of the server's major version or newer (e.g. apt-get install postgresql-client), " +
                 $"or set {PostgresBinaries.OverrideVariable} to the folder that holds them.";
        return null;
    }

    /// <summary>Runs one of the programs to its end; output and errors captured, the password scrubbed from both.</summary>
    public async Task<(int ExitCode, string Output, string Errors)> RunAsync(
        string program, IReadOnlyList<string> arguments, ClientEnvironment environment, CancellationToken cancellationToken)
    {
        using var process = Start(program, arguments, environment, redirectInput: false);
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        await WaitAsync(process, cancellationToken);
        return (process.ExitCode, environment.Scrub(await output), environment.Scrub(await errors));
    }

    /// <summary>
    /// Runs one of the programs with its standard output copied into <paramref name="destination"/>: the caller owns
    /// the file, so it is created with the permissions the caller chose, and a program whose reader is gone (the
    /// runner was killed) meets a broken pipe at its next write and exits instead of writing on. Ended when
    /// cancelled or when writing to the destination fails.
    /// </summary>
    public async Task<(int ExitCode, string Errors)> RunIntoAsync(
        string program, IReadOnlyList<string> arguments, ClientEnvironment environment, Stream destination, CancellationToken cancellationToken)
    {
        using var process = Start(program, arguments, environment, redirectInput: false);
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        // Ending the program ends its output, so the copy stops however the pipe's reads handle cancellation.
        await using var stop = cancellationToken.Register(() => Kill(process));
        try
        {
            await process.StandardOutput.BaseStream.CopyToAsync(destination, cancellationToken);
            await WaitAsync(process, cancellationToken);
        }
        finally
        {
            Kill(process);
        }

        return (process.ExitCode, environment.Scrub(await errors));
    }

    /// <summary>
    /// Restores a custom-format dump into the database that <paramref name="environment"/> names, in one
    /// transaction: <c>pg_restore --single-transaction -f -</c> piped into psql with ON_ERROR_STOP, after
    /// <paramref name="prologue"/> (run first, inside the same transaction) and with <paramref name="epilogue"/> run
    /// after everything pg_restore wrote and just before its COMMIT, which psql gets only once pg_restore has
    /// succeeded. Returns null on success, else what failed; on failure nothing was committed.
    /// </summary>
    public async Task<string?> RestoreInOneTransactionAsync(
        string dumpPath, string prologue, string epilogue, ClientEnvironment environment, CancellationToken cancellationToken)
    {
        using var psql = Start("psql", ["--no-psqlrc", "--quiet", "--no-password", "--set", "ON_ERROR_STOP=1", "--file", "-"], environment, redirectInput: true);
        var psqlOutput = psql.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var psqlErrors = psql.StandardError.ReadToEndAsync(CancellationToken.None);
        using var restore = Start("pg_restore", ["--single-transaction", "--file", "-", dumpPath], environment, redirectInput: false);
        var restoreErrors = restore.StandardError.ReadToEndAsync(CancellationToken.None);

        var restoreSucceeded = false;
        var committing = false;
        var psqlEnded = false;
        var psqlLeft = false;
        try
        {
            // pg_restore's own output opens the transaction too ("already in progress" is only a warning): the
            // prologue's BEGIN is what puts the prologue inside it.
            var input = psql.StandardInput.BaseStream;
            await input.WriteAsync(Encoding.UTF8.GetBytes($"BEGIN;\n{prologue}\n"), cancellationToken);
            var heldBack = await CopyHoldingBackTailAsync(restore.StandardOutput.BaseStream, input, cancellationToken);
            await WaitAsync(restore, cancellationToken);
            restoreSucceeded = restore.ExitCode == 0;
            // The last COMMIT line is pg_restore's own: COPY data before it may hold such a line, nothing after it does.
            var commit = heldBack.AsSpan().LastIndexOf("\nCOMMIT;\n"u8) + 1;
            if (restoreSucceeded && commit > 0)
            {
                committing = true;
                await input.WriteAsync(heldBack.AsMemory(0, commit), cancellationToken);
                await input.WriteAsync(Encoding.UTF8.GetBytes($"{epilogue}\n"), cancellationToken);
                await input.WriteAsync(heldBack.AsMemory(commit), cancellationToken);
                psql.StandardInput.Close();
                await WaitAsync(psql, cancellationToken);
                psqlEnded = true;
            }
        }
        catch (IOException)
        {
            // psql stopped reading: it met an error (ON_ERROR_STOP) and left; its transaction died with its session.
            psqlLeft = true;
        }
        finally
        {
            // Ending psql before its input ends is what rolls back a restore that did not finish: it never gets the
            // COMMIT. This also covers cancellation.
            Kill(restore);
            if (!psqlEnded)
            {
                Kill(psql);
            }
        }

        if (psqlLeft || (committing && psql.ExitCode != 0))
        {
            await psql.WaitForExitAsync(CancellationToken.None);
            return $"psql stopped at an error (exit code {psql.ExitCode}): {ErrorsOnly(environment.Scrub(await psqlErrors))}";
        }

        if (!restoreSucceeded)
        {
            return $"pg_restore could not read the dump (exit code {restore.ExitCode}): {FirstLines(environment.Scrub(await restoreErrors))}";
        }

        if (!committing)
        {
            return "pg_restore's output did not end its transaction with COMMIT, so nothing was committed";
        }

        await psqlOutput;
        return null;
    }

    private static async Task<byte[]> CopyHoldingBackTailAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[HeldBackBytes * 2];
        var held = 0;
        while (true)
        {
            var read = await from.ReadAsync(buffer.AsMemory(held), cancellationToken);
            if (read == 0)
            {
                return buffer[..held];
            }

            held += read;
            if (held > HeldBackBytes)
            {
                var release = held - HeldBackBytes;
                await to.WriteAsync(buffer.AsMemory(0, release), cancellationToken);
                Buffer.BlockCopy(buffer, release, buffer, 0, HeldBackBytes);
                held = HeldBackBytes;
            }
        }
    }

    private Process Start(string program, IReadOnlyList<string> arguments, ClientEnvironment environment, bool redirectInput)
    {
        var startInfo = new ProcessStartInfo(PostgresBinaries.ProgramPath(_directory, program))
        {
            UseShellExecute = false,
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        environment.ApplyTo(startInfo);
        return Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {program}.");
    }

    private static async Task WaitAsync(Process process, CancellationToken cancellationToken)
    {
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw;
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
    }

    private static string ErrorsOnly(string errors)
    {
        // Notices and warnings (pg_restore's own BEGIN draws one) come before it: the error is what stopped psql.
        var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var first = Array.FindIndex(lines, line => line.Contains("ERROR:", StringComparison.Ordinal) || line.Contains("FATAL:", StringComparison.Ordinal));
        return FirstLines(string.Join('\n', first < 0 ? lines : lines[first..]));
    }

    internal static string FirstLines(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0
            ? "(no message)"
            : string.Join(" | ", lines.Take(ErrorLinesShown)) + (lines.Length > ErrorLinesShown ? " | …" : "");
    }
}
