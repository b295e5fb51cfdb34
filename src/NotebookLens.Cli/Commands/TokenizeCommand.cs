using System.CommandLine;
using System.Text.Json;
using NotebookLens.Loading;
using NotebookLens.Tokenization;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>tokenize</c>: a text's tokens with their ids for a person (the tokens view), or with <c>--jsonl</c> one JSON string per
/// input line to one JSON object per output line: <c>{"ids", "tokens", "text", "offsets"}</c>.
/// </summary>
public sealed class TokenizeCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<string> _text;
    readonly Option<bool> _jsonl, _noSpecial;
    readonly ViewOutput _output;

    public TokenizeCommand(CliIO io) : base(io, "tokenize", "Splits a text into tokens, the pieces a model reads, and shows each token's id and text.",
        "tokenize --text \"今天天氣真好\"", "tokenize --model meta-llama/Llama-3.2-1B-Instruct --text \"The apple is green.\" --no-special")
    {
        _model = new ModelArgs(this, dtype: false);
        _text = Declare(CliOptions.Text("--text", "TEXT", "The text to split into tokens."));
        _jsonl = Declare(CliOptions.Flag("--jsonl", "Instead of --text: read one JSON string per line from standard input and print one JSON object per line: {\"ids\", \"tokens\", \"text\", \"offsets\"}."));
        _noSpecial = Declare(CliOptions.Flag("--no-special", "Do not add the special tokens the model expects at the start (such as <|begin_of_text|> or <bos>)."));
        _output = new ViewOutput(this, json: null, html: false);
        Check(r => (r.GetValue(_text) is null) == !r.GetValue(_jsonl) ? "give either --text TEXT or --jsonl (JSON strings on standard input)" : null);
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var text = args.GetValue(_text);
        bool special = !args.GetValue(_noSpecial);
        var tokenizer = HfTokenizer.Load(_model.Resolve(args, io, ModelParts.Tokenizer));
        if (text is not null)
        {
            _output.Write(args, io, "tokens", [TokensView.Create(Prompt.FromText(tokenizer, text, special))]);
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
