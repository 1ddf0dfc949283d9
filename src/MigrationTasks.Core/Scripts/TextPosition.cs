namespace MigrationTasks.Scripts;

/// <summary>Turns character offsets of a text into 1-based line and column numbers.</summary>
public sealed class TextPosition
{
    private readonly int[] _lineStarts;

    public TextPosition(string text)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                starts.Add(i + 1);
            }
        }

        _lineStarts = [.. starts];
    }

    public (int Line, int Column) At(int offset)
    {
        var index = Array.BinarySearch(_lineStarts, offset);
        var line = index >= 0 ? index : ~index - 1;
        return (line + 1, offset - _lineStarts[line] + 1);
    }
}
