using System.CommandLine;
using System.Globalization;

namespace NotebookLens.Cli;

/// <summary>
/// A usage mistake: a bad value (thrown by an option's parser), options that do not go together (a verb's rule), or a
/// value the loaded model rules out (a layer it does not have). The message says what to type instead. Exit code 2.
/// </summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The kinds of option the verbs declare, each with its parsing and its wording of a bad value in one place. An option
/// takes one value per occurrence; given twice, a single value keeps the last (a script can append to a default command
/// line) and a list (<see cref="Texts"/>) keeps them all, in order.
/// </summary>
static class CliOptions
{
    /// <summary>Turns the last value given into a <typeparamref name="T"/>; a <see cref="UsageException"/> from <paramref name="parse"/> is a parse error (exit 2).</summary>
    public static Option<T> Value<T>(string name, string value, string description, Func<string, T> parse) => new(name)
    {
        HelpName = value,
        Description = description,
        // One token per occurrence (AllowMultipleArgumentsPerToken is off), any number of occurrences.
        Arity = ArgumentArity.OneOrMore,
        CustomParser = result =>
        {
            try
            {
                return parse(result.Tokens[^1].Value);
            }
            catch (UsageException e)
            {
                result.AddError(e.Message);
                return default;
            }
        },
    };

    public static Option<string> Text(string name, string value, string description) => Value(name, value, description, text => text);

    /// <summary>A text that may be repeated (<c>--sentence A --sentence B</c>): every value, in order; null when absent.</summary>
    /// <param name="twoOrMore">The verb compares the texts, so it needs at least two.</param>
    public static Option<IReadOnlyList<string>> Texts(string name, string value, string description, bool twoOrMore = false)
    {
        var option = new Option<IReadOnlyList<string>>(name)
        {
            HelpName = value,
            Description = description,
            Arity = ArgumentArity.OneOrMore,
            CustomParser = result => result.Tokens.Select(t => t.Value).ToList(),
            Required = twoOrMore,
        };
        if (twoOrMore)
            option.Validators.Add(result =>
            {
                if (result.Tokens.Count < 2) result.AddError($"give at least two {name}");
            });
        return option;
    }

    public static Option<int> Int(string name, string value, string description, int min = 0, int max = int.MaxValue) =>
        Value(name, value, description, text => WholeNumber(name, text, min, max));

    /// <summary>A whole number that has no default: null when absent.</summary>
    public static Option<int?> OptionalInt(string name, string value, string description, int min = 0) =>
        Value<int?>(name, value, description, text => WholeNumber(name, text, min));

    /// <summary>A number; <paramref name="valid"/> says whether it is in range, <paramref name="range"/> how a person should read the range.</summary>
    public static Option<double> Double(string name, string value, string description, Func<double, bool> valid, string range) =>
        Value(name, value, description, text => Number(name, text, valid, range));

    /// <summary>Token ids, comma-separated (<c>--ids 128000,791,24149</c>); null when absent.</summary>
    public static Option<IReadOnlyList<long>> TokenIds(string description) => Value<IReadOnlyList<long>>("--ids", "ID,ID,...", description, text =>
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new UsageException("--ids needs at least one token id");
        return parts.Select(p => long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id
            : throw new UsageException($"--ids: '{p}' is not a token id (a non-negative integer)")).ToList();
    });

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>The <c>--json</c> of the verbs that have a JSON output; <paramref name="shape"/> is what it prints.</summary>
    public static Option<bool> Json(string shape) => Flag("--json", $"Print JSON for scripts instead of text for a person: {shape}.");

    /// <summary>The value when the option is absent (help shows it).</summary>
    public static Option<T> Default<T>(this Option<T> option, T value)
    {
        option.DefaultValueFactory = _ => value;
        return option;
    }

    /// <summary>Makes the option one the verb cannot run without (help marks it REQUIRED).</summary>
    public static T Required<T>(this T option) where T : Option
    {
        option.Required = true;
        return option;
    }

    public static int WholeNumber(string name, string text, int min, int max = int.MaxValue) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max ? v : throw NotAWholeNumber(name, text, min, max);

    /// <summary>The mistake of a value that is not a whole number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static UsageException NotAWholeNumber(string name, string text, int min, int max = int.MaxValue) =>
        new($"{name}: '{text}' is not a whole number{(min == int.MinValue ? "" : $" ≥ {min}")}{(max == int.MaxValue ? "" : $" ≤ {max}")}");

    public static double Number(string name, string text, Func<double, bool> valid, string range) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && valid(v) ? v
            : throw new UsageException($"{name}: '{text}' is not a number {range}");
}
