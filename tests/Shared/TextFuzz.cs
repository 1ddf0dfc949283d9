using System.Text;

namespace MigrationTasks.Testing;

/// <summary>
/// Random script texts for <see cref="Fuzzing"/>, made from a language's <see cref="Alphabet"/>: fragments that
/// stress its lexer, characters it decides on, and real files with random edits.
/// </summary>
internal static class TextFuzz
{
    /// <param name="Fragments">Pieces of the language: quotes, comments, keywords, each closed and left open.</param>
    /// <param name="Special">The characters its lexer decides on, chosen more often than the rest of Unicode.</param>
    public sealed record Alphabet(string[] Fragments, string Special);

    /// <summary>A few dozen fragments, sometimes with one very long run.</summary>
    public static string FromFragments(Random random, Alphabet alphabet)
    {
        var text = new StringBuilder();
        var count = random.Next(1, 80);
        for (var i = 0; i < count; i++)
        {
            text.Append(random.Next(20) == 0 ? LongRun(random) : alphabet.Fragments[random.Next(alphabet.Fragments.Length)]);
            text.Append(random.Next(4) switch { 0 => "", 1 => "\n", _ => " " });
        }

        return text.ToString();
    }

    /// <summary>Random characters, mostly the ones the lexer decides on.</summary>
    public static string FromCharacters(Random random, Alphabet alphabet)
    {
        var length = random.Next(0, 400);
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            text.Append(RandomCharacter(random, alphabet));
        }

        return text.ToString();
    }

    /// <summary>A real file with one to eight random edits: flips, inserts, deletions, copies, a truncation, a long run.</summary>
    public static string Mutated(Random random, IReadOnlyList<string> corpus, Alphabet alphabet)
    {
        var text = new StringBuilder(corpus[random.Next(corpus.Count)]);
        var edits = random.Next(1, 9);
        for (var i = 0; i < edits; i++)
        {
            var at = random.Next(text.Length + 1);
            switch (random.Next(6))
            {
                case 0 when text.Length > 0:
                    text[Math.Min(at, text.Length - 1)] = RandomCharacter(random, alphabet);
                    break;
                case 1:
                    text.Insert(at, alphabet.Fragments[random.Next(alphabet.Fragments.Length)]);
                    break;
                case 2:
                    text.Remove(at, random.Next(Math.Min(64, text.Length - at) + 1));
                    break;
                case 3:
                    var length = random.Next(Math.Min(200, text.Length - at) + 1);
                    text.Insert(random.Next(text.Length + 1), text.ToString(at, length));
                    break;
                case 4:
                    text.Length = at;
                    break;
                default:
                    text.Insert(at, LongRun(random));
                    break;
            }
        }

        return text.ToString();
    }

    /// <summary>Every prefix of every text: a file cut off anywhere, as an interrupted copy leaves it.</summary>
    public static IEnumerable<string> Prefixes(IEnumerable<string> texts) =>
        texts.SelectMany(text => Enumerable.Range(0, text.Length + 1).Select(length => text[..length]));

    /// <summary>A very long line: one word, a quoted string, a comment, many semicolons, or parentheses nested deep.</summary>
    public static string LongRun(Random random)
    {
        var length = random.Next(1_000, 20_000);
        return random.Next(5) switch
        {
            0 => new string('x', length),
            1 => "'" + new string('q', length) + "'",
            2 => "/*" + new string('*', length) + "*/",
            3 => new string(';', length),
            _ => new string('(', length),
        };
    }

    private static char RandomCharacter(Random random, Alphabet alphabet) => random.Next(10) switch
    {
        < 6 => alphabet.Special[random.Next(alphabet.Special.Length)],
        < 8 => (char)random.Next(0x20, 0x7f),
        8 => (char)random.Next(0, 0x20),
        _ => (char)random.Next(0x80, 0x10000),
    };
}
