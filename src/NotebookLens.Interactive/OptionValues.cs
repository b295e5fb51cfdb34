using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Commands;

namespace NotebookLens.Interactive;

/// <summary>
/// Reads the analysis subcommands' option values (bound as strings, see ModelCommands.cs), each mistake a
/// <see cref="MagicException"/> that names the option and shows a valid value.
/// </summary>
static partial class OptionValues
{
    /// <summary>What separates the items of a list option (<c>--sentence "A|B"</c>).</summary>
    public const char ListSeparator = '|';

    public static string Required(string? value, string subcommand, string what, string example) =>
        string.IsNullOrEmpty(value)
            ? throw new MagicException($"#!model {subcommand} needs {what}.", $"For example: {example}")
            : value;

    public static int Int(string? value, string option, int fallback, int min = 0) => IntOrNull(value, option, min) ?? fallback;

    public static int? IntOrNull(string? value, string option, int min = 0)
    {
        if (value is null) return null;
        return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n
            : throw new MagicException($"{option} must be a whole number{(min == int.MinValue ? "" : $" ≥ {min}")}, not '{value}'.",
                $"For example: {option} {Math.Max(min, 1)}");
    }

    public static double Double(string? value, string option, double fallback) => value is null ? fallback : ParseDouble(value, option);

    /// <summary>A threshold that <c>none</c> turns off.</summary>
    public static double? Threshold(string? value, string option, double? fallback) => value switch
    {
        null => fallback,
        "none" => null,
        _ => ParseDouble(value, option, "or none to turn it off"),
    };

    static double ParseDouble(string value, string option, string? alternative = null) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x)
            ? x
            : throw new MagicException($"{option} must be a number, not '{value}'.", $"For example: {option} 0.5{(alternative is null ? "" : " " + alternative)}.");

    /// <summary>Numbers separated by commas: <c>--t 0.5,1,2</c>.</summary>
    public static IReadOnlyList<double> Doubles(string value, string option) =>
        value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => ParseDouble(v, option)).ToList() is { Count: > 0 } list
            ? list
            : throw new MagicException($"{option} needs numbers separated by commas.", $"For example: {option} 0.5,1,2");

    /// <summary>Whole numbers separated by commas: <c>--layers 0,2,4</c>.</summary>
    public static IReadOnlyList<int> Ints(string value, string option) =>
        value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => Int(v, option, 0, int.MinValue)).ToList() is { Count: > 0 } list
            ? list
            : throw new MagicException($"{option} needs whole numbers separated by commas.", $"For example: {option} 0,1,2");

    /// <summary>
    /// The items of a list option, split at <see cref="ListSeparator"/>. <paramref name="trim"/> drops spaces around
    /// each item (sentences); tokens keep them, since a token's leading space is part of it (" Paris").
    /// </summary>
    public static IReadOnlyList<string> List(string value, bool trim = true) =>
        value.Split(ListSeparator, trim ? StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries : StringSplitOptions.RemoveEmptyEntries);

    [GeneratedRegex(@"(?<=\s)--[a-z][a-z-]*(?=\s|$)")]
    private static partial Regex OptionName();

    /// <summary>
    /// .NET Interactive silently drops an option given twice (neither value reaches the command): in the cell's
    /// <c>#!model <paramref name="subcommand"/></c> lines, that is an error saying how to give several values.
    /// </summary>
    public static void CheckNoRepeats(KernelCommand command, string subcommand, IReadOnlySet<string> listOptions)
    {
        if (command.Parent is not SubmitCode cell) return;
        var prefix = $"{ModelMagic.DirectiveName} {subcommand}";
        foreach (var line in cell.Code.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l == prefix || l.StartsWith(prefix + " ", StringComparison.Ordinal)))
        {
            var repeated = OptionName().Matches(WithoutQuoted(line)).GroupBy(m => m.Value).FirstOrDefault(g => g.Count() > 1)?.Key;
            if (repeated is null) continue;
            throw listOptions.Contains(repeated)
                ? new MagicException($"{repeated} is given more than once; a #!model option takes one value.",
                    $"Put all of them in one {repeated}, separated by {ListSeparator}, e.g. {repeated} \"first{ListSeparator}second\".")
                : new MagicException($"{repeated} is given more than once.", $"Give {repeated} once.");
        }
    }

    /// <summary>The line with quoted values blanked, so an option name inside a quoted text is not counted.</summary>
    static string WithoutQuoted(string line) => QuotedValue().Replace(line, "\"\"");

    [GeneratedRegex("\"(?:\\\\.|[^\"\\\\])*\"")]
    private static partial Regex QuotedValue();
}
