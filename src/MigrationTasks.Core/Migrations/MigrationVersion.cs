using System.Numerics;

namespace MigrationTasks.Migrations;

/// <summary>
/// A Flyway-compatible version: numeric parts split on '.' or '_', compared part by part as numbers, so V1_10 comes
/// after V1_9 and V2 after V1_10. Trailing zero parts do not count (1.0 equals 1), as in Flyway, so that a history
/// written by Flyway keeps its identity here.
/// </summary>
public sealed class MigrationVersion : IComparable<MigrationVersion>, IEquatable<MigrationVersion>
{
    private readonly BigInteger[] _parts;

    private MigrationVersion(BigInteger[] parts, string text)
    {
        _parts = parts;
        Text = text;
    }

    /// <summary>The version as written in the file name, e.g. <c>1_10</c> or <c>20201207.10523</c>.</summary>
    public string Text { get; }

    /// <summary>The canonical form stored in the history: parts joined by '.', without leading zeros.</summary>
    public string Canonical => string.Join('.', Significant().Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public static bool TryParse(string text, out MigrationVersion? version)
    {
        version = null;
        if (text.Length == 0)
        {
            return false;
        }

        var pieces = text.Split('.', '_');
        var parts = new BigInteger[pieces.Length];
        for (var i = 0; i < pieces.Length; i++)
        {
            if (pieces[i].Length == 0 || !pieces[i].All(char.IsAsciiDigit))
            {
                return false;
            }

            parts[i] = BigInteger.Parse(pieces[i], System.Globalization.CultureInfo.InvariantCulture);
        }

        version = new MigrationVersion(parts, text);
        return true;
    }

    public static MigrationVersion Parse(string text) =>
        TryParse(text, out var version) ? version! : throw new FormatException($"'{text}' is not a migration version.");

    public int CompareTo(MigrationVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var length = Math.Max(_parts.Length, other._parts.Length);
        for (var i = 0; i < length; i++)
        {
            var mine = i < _parts.Length ? _parts[i] : BigInteger.Zero;
            var theirs = i < other._parts.Length ? other._parts[i] : BigInteger.Zero;
            var compared = mine.CompareTo(theirs);
            if (compared != 0)
            {
                return compared;
            }
        }

        return 0;
    }

    public bool Equals(MigrationVersion? other) => CompareTo(other) == 0;

    public override bool Equals(object? obj) => obj is MigrationVersion other && Equals(other);

    public override int GetHashCode() => Canonical.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Text;

    private IEnumerable<BigInteger> Significant()
    {
        var count = _parts.Length;
        while (count > 1 && _parts[count - 1].IsZero)
        {
            count--;
        }

        return _parts.Take(count);
    }
}
