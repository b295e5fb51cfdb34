using System.Text;
using Microsoft.DotNet.Interactive.Directives;

namespace NotebookLens.Interactive;

/// <summary>
/// Checks the <c>#!model</c> lines of a cell against the subcommands' parameters. .NET Interactive rejects an unknown
/// option before a subcommand (DNI103) but silently drops one after it, and drops extra words: <c>#!model tokens
/// Hello world</c> would tokenize nothing. Those must be errors that say what to write instead.
/// </summary>
static class DirectiveLines
{
    public static void Check(string cell, KernelActionDirective root)
    {
        foreach (var line in cell.Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.StartsWith(root.Name + " ", StringComparison.Ordinal))
                CheckLine(Words(trimmed[root.Name.Length..]), root);
        }
    }

    static void CheckLine(IReadOnlyList<string> words, KernelActionDirective root)
    {
        KernelActionDirective? subcommand = null;
        var arguments = 0;
        for (var i = 0; i < words.Count; i++)
        {
            var word = words[i];
            if (word.StartsWith("--", StringComparison.Ordinal))
            {
                var parameter = (subcommand?.Parameters ?? []).Concat(root.Parameters).FirstOrDefault(p => p.Name == word);
                if (parameter is null)
                    throw new MagicException(
                        $"Unknown option '{word}'{(subcommand is null ? "" : $" for #!model {subcommand.Name}")}.",
                        $"{Options(subcommand, root)} {subcommand?.Description}");
                if (parameter.Flag) continue;
                if (i + 1 >= words.Count || words[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new MagicException($"Option {word} needs a value.", $"For example: {word} {Example(parameter)}");
                i++;
            }
            else if (subcommand is null)
            {
                // A word that is no subcommand: the root's help handler says so.
                subcommand = root.Subcommands.FirstOrDefault(s => s.Name == word);
                if (subcommand is null) return;
            }
            else if (++arguments > 1 || !subcommand.Parameters.Any(p => p.AllowImplicitName))
            {
                throw new MagicException(
                    subcommand.Parameters.Any(p => p.AllowImplicitName)
                        ? $"#!model {subcommand.Name} takes one argument but got more ('{word}' is extra)."
                        : $"#!model {subcommand.Name} takes no argument ('{word}' is extra).",
                    $"Put text with spaces in double quotes, e.g. #!model tokens \"Hello world\". {subcommand.Description}");
            }
        }
    }

    static string Options(KernelActionDirective? subcommand, KernelActionDirective root)
    {
        var names = (subcommand?.Parameters ?? []).Where(p => !p.AllowImplicitName).Concat(root.Parameters).Select(p => p.Name);
        return $"Options{(subcommand is null ? "" : $" of #!model {subcommand.Name}")}: {string.Join(", ", names)}.";
    }

    static string Example(KernelDirectiveParameter parameter) => parameter.Name switch
    {
        "--as" => "result",
        "--model" => "tiny",
        _ => "VALUE",
    };

    /// <summary>
    /// Splits at spaces, keeping a double-quoted value (which may contain spaces) and a JSON array value
    /// (<c>--command ["ssh", "gpu-box"]</c>) as one word.
    /// </summary>
    static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var quoted = false;
        var brackets = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"' && (i == 0 || text[i - 1] != '\\')) quoted = !quoted;
            if (!quoted && c == '[') brackets++;
            if (!quoted && c == ']' && brackets > 0) brackets--;
            if (char.IsWhiteSpace(c) && !quoted && brackets == 0)
            {
                if (word.Length > 0) words.Add(word.ToString());
                word.Clear();
            }
            else word.Append(c);
        }
        if (word.Length > 0) words.Add(word.ToString());
        return words;
    }
}
