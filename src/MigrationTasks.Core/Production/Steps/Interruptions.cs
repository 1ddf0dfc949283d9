using MigrationTasks.Diagnostics;

namespace MigrationTasks.Production.Steps;

/// <summary>Exceptions as the report words them: "NpgsqlTransaction" alone says nothing.</summary>
internal static class Interruptions
{
    /// <summary>An exception's message with its innermost cause.</summary>
    public static string Describe(Exception exception)
    {
        if (exception is DiagnosticException diagnostic)
        {
            return string.Join(" ", diagnostic.Diagnostics.Select(d => d.Message));
        }

        var inner = exception;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        var kind = exception is OperationCanceledException ? "cancelled" : exception.GetType().Name;
        return inner == exception ? $"{kind}: {exception.Message}" : $"{kind}: {exception.Message} ({inner.Message})";
    }

    public static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;
}
