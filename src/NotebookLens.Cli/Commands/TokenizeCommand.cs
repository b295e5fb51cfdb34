using System.Text.Json;
using NotebookLens.Loading;
using NotebookLens.Tokenization;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>tokenize</c>: a text's tokens with their ids for a person (the tokens view), or with <c>--jsonl</c> one JSON string per
/// input line to one JSON object per output line: <c>{"ids", "tokens", "text", "offsets"}</c>.
/// </summary>
public sealed class TokenizeCommand : ICommand
{
    public string Name => "tokenize";
    public string Usage => $"tokenize {ModelArgs.ModelUsage} (--text TEXT | --jsonl) [--no-special]";
    public IReadOnlySet<string> Options { get; } = new HashSet<string> { "model", "text" };
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "jsonl", "no-special" };

    public int Run(CliArgs args, CliIO io)
    {
        var text = args.Get("text");
        bool jsonl = args.Flag("jsonl"), special = !args.Flag("no-special");
        if ((text is null) == !jsonl) throw new UsageException("give either --text TEXT or --jsonl (JSON strings on standard input)");
        var tokenizer = HfTokenizer.Load(ModelArgs.Resolve(args, io, ModelParts.Tokenizer));
        if (text is not null)
        {
            ViewOutput.Write(args, io, "tokens", TokensView.Create(Prompt.FromText(tokenizer, text, special)));
            return 0;
        }
        int lineNumber = 0;
        while (io.Input.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string input;
            try { input = JsonSerializer.Deserialize<string>(line) ?? throw new JsonException("null is not a string"); }
            catch (JsonException e) { throw new InvalidDataException($"standard input line {lineNumber} is not a JSON string: {e.Message}", e); }
            var tokens = tokenizer.Tokenize(input, special);
            io.Output.WriteLine(CliJson.Serialize(new
            {
                ids = tokens.Select(t => t.Id),
                tokens = tokens.Select(t => t.Raw),
                text = tokens.Select(t => t.Text),
                offsets = tokens.Select(t => new[] { t.Offsets.Start.Value, t.Offsets.End.Value }),
            }));
        }
        return 0;
    }
}
