using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using NotebookLens.Cli;
using NotebookLens.Cli.Commands;
using static NotebookLens.Tests.Cli.CliRunner;

namespace NotebookLens.Tests.Cli;

/// <summary>The CLI explains itself: help for every verb and option, suggestions for typos, exit 2 for every kind of usage mistake.</summary>
public class CliHelpTests
{
    static readonly CliIO Silent = new(TextReader.Null, TextWriter.Null, TextWriter.Null);

    static Verb Verb(string name) => Assert.IsAssignableFrom<Verb>(CliApp.Root(Silent).Subcommands.Single(v => v.Name == name));

    /// <summary>Every verb of the root command, so that a verb added later is held to the same.</summary>
    public static TheoryData<string> Verbs() => new(CliApp.Root(Silent).Subcommands.Select(v => v.Name));

    [Theory]
    [MemberData(nameof(Verbs))]
    public void A_verbs_help_describes_it_and_each_of_its_options_with_its_default(string name)
    {
        var verb = Verb(name);
        Assert.False(string.IsNullOrWhiteSpace(verb.Description));
        foreach (var help in new[] { "--help", "-h" })
        {
            var (code, output, error) = Run(name, help);
            Assert.Equal(0, code);
            Assert.Equal("", error);
            Assert.Contains(verb.Description, output);
            var lines = output.Split('\n');
            foreach (var option in verb.Options.Where(o => o is not HelpOption))
            {
                Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{name} {option.Name} has no description");
                var line = Assert.Single(lines, l => l.StartsWith($"  {option.Name} ", StringComparison.Ordinal));
                Assert.Contains(option.Description, line);
                // A switch is off unless given; every other default is shown.
                if (option.HasDefaultValue && option.ValueType != typeof(bool)) Assert.Contains("[default: ", line);
                // As a user would type it, not an object's every property (train-tiny's --recipe once printed its recipe record).
                Assert.DoesNotMatch(@"\[default: \w+ \{", line);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public void A_verbs_help_ends_with_examples_that_are_right(string name)
    {
        var verb = Verb(name);
        Assert.NotEmpty(verb.Examples);
        var (_, output, _) = Run(name, "--help");
        foreach (var example in verb.Examples)
        {
            Assert.Contains($"  {CliApp.Name} {example}\n", output);
            var parsed = CliApp.Parse(CommandLineParser.SplitCommandLine(example).ToList(), Silent);
            Assert.Empty(parsed.Errors);
            Assert.Equal(verb.Name, parsed.CommandResult.Command.Name);
            Assert.Null(((Verb)parsed.CommandResult.Command).Mistake(parsed));
        }
    }

    [Fact]
    public void The_programs_help_lists_every_verb()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        foreach (var verb in CliApp.Root(Silent).Subcommands)
            Assert.Matches($@"\n  {verb.Name} +{Regex.Escape(verb.Description!)}\n", output);
    }

    [Theory]
    [InlineData(new[] { "lenz", "--text", "hi" }, "lenz", "lens")]
    [InlineData(new[] { "tokenise", "--text", "hi" }, "tokenise", "tokenize")]
    [InlineData(new[] { "lens", "--text", "hi", "--lst" }, "--lst", "--last")]
    [InlineData(new[] { "similarity", "--word", "a", "--sentnce", "a b" }, "--sentnce", "--sentence")]
    public void A_mistyped_verb_or_option_exits_2_and_suggests_the_right_one(string[] args, string typo, string suggestion)
    {
        var (code, output, error) = Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains($"error: Unrecognized command or argument '{typo}'.", error);
        Assert.Contains($"'{typo}' was not matched. Did you mean one of the following?\n{suggestion}\n", error);
    }

    /// <summary>
    /// Each kind of usage mistake exits 2 before any work, with a message naming what is wrong: the model named does
    /// not exist, so a verb that had started would exit 1.
    /// </summary>
    [Theory]
    [InlineData("unknown verb", new[] { "explode" }, "Unrecognized command or argument 'explode'")]
    [InlineData("unknown option", new[] { "lens", "--text", "hi", "--colour", "red" }, "Unrecognized command or argument '--colour'")]
    [InlineData("stray argument", new[] { "lens", "--text", "hi", "stray" }, "Unrecognized command or argument 'stray'")]
    [InlineData("option without its value", new[] { "lens", "--text" }, "Required argument missing for option: '--text'")]
    [InlineData("required option missing", new[] { "lens", "--k", "2" }, "Option '--text' is required")]
    [InlineData("not a number", new[] { "lens", "--text", "hi", "--k", "three" }, "--k: 'three' is not a whole number ≥ 1")]
    [InlineData("number out of range", new[] { "pca", "--layer", "1", "--text", "a", "--text", "b", "--components", "4" }, "--components: '4' is not a whole number ≥ 1 ≤ 3")]
    [InlineData("fraction out of range", new[] { "refusal", "--prune-layers", "1" }, "--prune-layers: '1' is not a number in [0, 1)")]
    [InlineData("not one of the choices", new[] { "neighbors", "--token", "a", "--table", "middle" }, "--table must be input or output, not 'middle'")]
    [InlineData("options that go together", new[] { "attention", "--text", "hi", "--layer", "1" }, "--layer and --head go together")]
    [InlineData("options that exclude each other", new[] { "dump", "--text", "hi", "--ids", "1", "--out", "x.safetensors" }, "give either --ids or --text")]
    [InlineData("too few of a list", new[] { "similarity", "--word", "a", "--sentence", "a b" }, "give at least two --sentence")]
    public void Every_kind_of_usage_mistake_exits_2_naming_it(string kind, string[] args, string message)
    {
        var (code, output, error) = Run([args[0], "--model", "/no/such/model", .. args[1..]]);
        Assert.True(code == 2, $"{kind}: exit {code}\n{error}");
        Assert.Equal("", output);
        Assert.Contains($"error: {message}", error);
    }

    [Fact]
    public void A_single_option_given_twice_keeps_the_last_value_and_a_list_option_keeps_every_value()
    {
        var parsed = CliApp.Parse(["pca", "--layer", "1", "--text", "a", "--components", "3", "--text", "b", "--layer", "2", "--text", "c"], Silent);
        Assert.Empty(parsed.Errors);
        Assert.Equal(2, parsed.GetValue<int>("--layer"));
        Assert.Equal(3, parsed.GetValue<int>("--components"));
        Assert.Equal(["a", "b", "c"], parsed.GetValue<IReadOnlyList<string>>("--text"));
        // Only the value used is checked: a later value replaces a bad one.
        Assert.Empty(CliApp.Parse(["lens", "--text", "hi", "--k", "abc", "--k", "2"], Silent).Errors);
    }

    [Fact]
    public void Values_that_look_like_options_numbers_or_files_are_values()
    {
        var parsed = CliApp.Parse(["patchscope", "--source", "@home", "--source-position", "-2", "--target", "--json", "--placeholder", "-h"], Silent);
        Assert.Empty(parsed.Errors);
        Assert.Equal("@home", parsed.GetValue<string>("--source"));
        Assert.Equal(-2, parsed.GetValue<int?>("--source-position"));
        Assert.Equal("--json", parsed.GetValue<string>("--target"));
        Assert.Equal("-h", parsed.GetValue<string>("--placeholder"));
        Assert.Equal("", CliApp.Parse(["neighbors", "--token", ""], Silent).GetValue<string>("--token"));
    }

    /// <summary>The README's CLI table has a row for every verb, and every option a row names is one of the verb's.</summary>
    [Fact]
    public void The_readme_documents_every_verb_with_options_it_has()
    {
        var readme = ReadmeExamplesTests.Readme();
        var section = readme[readme.IndexOf("\n## CLI\n", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 1, StringComparison.Ordinal)];
        var rows = Regex.Matches(section, @"^\| `([a-z-]+) ([^`]*)` \|", RegexOptions.Multiline);
        var verbs = CliApp.Root(Silent).Subcommands;
        Assert.Equal(verbs.Select(v => v.Name).Order(), rows.Select(r => r.Groups[1].Value).Distinct().Order());
        foreach (Match row in rows)
        {
            var verb = verbs.Single(v => v.Name == row.Groups[1].Value);
            foreach (Match option in Regex.Matches(row.Groups[2].Value, "--[a-z-]+"))
                Assert.True(verb.Options.Any(o => o.Name == option.Value), $"README: {verb.Name} has no {option.Value}");
        }
    }
}
