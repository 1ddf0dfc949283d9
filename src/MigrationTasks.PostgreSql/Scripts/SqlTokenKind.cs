namespace MigrationTasks.PostgreSql.Scripts;

/// <summary>The kinds of <see cref="SqlToken"/>: only the distinctions that splitting and classifying statements need.</summary>
internal enum SqlTokenKind
{
    EndOfText,

    /// <summary>A keyword or unquoted identifier such as <c>CREATE</c> or <c>a$b</c>.</summary>
    Word,

    /// <summary><c>"name"</c> or <c>U&amp;"name"</c>.</summary>
    QuotedIdentifier,

    /// <summary><c>'text'</c>, also with an E, B, X, N or U&amp; prefix.</summary>
    StringLiteral,

    /// <summary><c>$$text$$</c> or <c>$tag$text$tag$</c>.</summary>
    DollarQuotedString,

    Number,

    /// <summary>A positional parameter such as <c>$1</c>.</summary>
    Parameter,

    LineComment,
    BlockComment,
    OpenParenthesis,
    CloseParenthesis,
    Semicolon,

    /// <summary>A backslash outside any quote: in psql it starts a meta-command such as <c>\i</c>.</summary>
    Backslash,

    /// <summary>Any other single character: operators, commas, dots and the like.</summary>
    Symbol,
}
