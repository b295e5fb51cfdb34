using System.CommandLine;
using NotebookLens.Loading;
using NotebookLens.Generation;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>generate</c>: continues a prompt, streaming the generation's text view for a person, or with <c>--json</c> printing
/// <c>{"ids": [new token ids], "text": "...", "finish_reason": "..."}</c>.
/// </summary>
public sealed class GenerateCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<IReadOnlyList<long>> _ids;
    readonly Option<string> _text, _system;
    readonly Option<bool> _chat, _greedy, _json;
    readonly Option<int> _maxNewTokens, _topK, _seed;
    readonly Option<double> _temperature, _topP;

    public GenerateCommand(CliIO io) : base(io, "generate",
        "Continues a prompt token by token and prints the text as it comes. Greedy (always the most likely token) unless --temperature asks for sampling.",
        "generate --text \"Write a poem about the sea\" --chat --max-new-tokens 32",
        "generate --text \"The weather is\" --max-new-tokens 10 --temperature 0.8 --top-p 0.9 --seed 1")
    {
        var defaults = new GenerationOptions();
        _model = new ModelArgs(this);
        _ids = Declare(CliOptions.TokenIds("The prompt as token ids (tokenize shows a text's ids)."));
        _text = Declare(CliOptions.Text("--text", "TEXT", "The prompt as text."));
        _chat = Declare(CliOptions.Flag("--chat", "Wrap --text as a user message in the model's chat template, ending where the assistant's reply starts."));
        _system = Declare(CliOptions.Text("--system", "TEXT", "A system message before the user's (with --chat)."));
        _maxNewTokens = Declare(CliOptions.Int("--max-new-tokens", "N", "How many tokens to generate at most; the model may stop earlier with an end token.").Required());
        _greedy = Declare(CliOptions.Flag("--greedy", "Always take the most likely token (also what happens without --temperature)."));
        _temperature = Declare(CliOptions.Double("--temperature", "T",
            "Sample the next token instead of taking the most likely: the logits are divided by T before the softmax (below 1: safer, above 1: more surprising).", t => t > 0, "> 0 (--greedy decodes without sampling)"));
        _topK = Declare(CliOptions.Int("--top-k", "K", "Sample only among the K most likely tokens; 0: among all.").Default(defaults.TopK));
        _topP = Declare(CliOptions.Double("--top-p", "P", "Sample only among the most likely tokens that together have probability P; 1: among all.", p => p is > 0 and <= 1, "in (0, 1]").Default(defaults.TopP));
        _seed = Declare(CliOptions.Int("--seed", "S", "Seed of the sampling: the same seed gives the same text again.", min: int.MinValue).Default(defaults.Seed));
        _json = Declare(CliOptions.Json("{\"ids\": [new token ids], \"text\": \"...\", \"finish_reason\": \"stop|length|context_full|cancelled\"}"));
        Check(r => (r.GetValue(_ids) is null) == (r.GetValue(_text) is null) ? "give either --ids or --text" : null);
        Check(r => r.GetValue(_chat) && r.GetValue(_text) is null ? "--chat wraps --text as a user message" : null);
        Check(r => r.GetValue(_system) is not null && !r.GetValue(_chat) ? "--system needs --chat" : null);
        Check(r =>
        {
            bool sampling = new Option[] { _temperature, _topK, _topP, _seed }.Any(o => Given(r, o));
            return !sampling ? null
                : r.GetValue(_greedy) ? "--greedy cannot be combined with --temperature, --top-k, --top-p or --seed"
                : !Given(r, _temperature) ? "sampling needs --temperature T (> 0)"
                : null;
        });
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var ids = args.GetValue(_ids);
        bool json = args.GetValue(_json);
        // Absent sampling options have the core's defaults: temperature 0 is greedy decoding.
        var options = new GenerationOptions
        {
            MaxNewTokens = args.GetValue(_maxNewTokens),
            Temperature = args.GetValue(_temperature),
            TopK = args.GetValue(_topK),
            TopP = args.GetValue(_topP),
            Seed = args.GetValue(_seed),
        };

        if (ids is not null && _model.Resolve(args, io, ModelParts.Weights) is var folder && !File.Exists(Path.Combine(folder, "tokenizer.json")))
            return GenerateIds(args, io, folder, ids, options, json);

        using var lens = _model.LoadLens(args, io);
        var prompt = ids is not null ? lens.Prompt(ids.Select(i => (int)i))
            : args.GetValue(_chat) ? lens.ChatPrompt(args.GetValue(_text)!, args.GetValue(_system))
            : lens.Prompt(args.GetValue(_text)!);
        if (json)
        {
            var result = lens.Generate(prompt, options);
            io.Output.WriteLine(CliJson.Serialize(new { ids = result.NewIds, text = result.Text, finish_reason = FinishName(result.FinishReason) }));
            return 0;
        }
        // The generation's text view, written as it comes: the prompt, the completion token by token, the closing line.
        io.Output.Write(GenerationView.TextBefore(prompt));
        var stream = new TextStream(lens, io.Output);
        var output = lens.Generate(prompt, options with { OnToken = t => stream.Add(t.Id) });
        stream.Finish(output.Text);
        io.Output.Write(GenerationView.TextAfter(output));
        return 0;
    }

    /// <summary>
    /// A folder without tokenizer.json still continues token ids: the output is the new ids, and says there is no text
    /// (in JSON, <c>"text": null</c>).
    /// </summary>
    int GenerateIds(ParseResult args, CliIO io, string folder, IReadOnlyList<long> ids, GenerationOptions options, bool json)
    {
        using var model = _model.Load(args, folder);
        var result = model.Generate(ids.Select(i => (int)i).ToList(), options);
        var finish = FinishName(result.FinishReason);
        if (json) io.Output.WriteLine(CliJson.Serialize(new { ids = result.NewIds, text = (string?)null, finish_reason = finish }));
        else io.Output.WriteLine($"{string.Join(",", result.NewIds)}\n(no text: {folder} has no tokenizer.json; finished: {finish})");
        return 0;
    }

    /// <summary>
    /// Prints a completion as it grows, decoded as the finished output's text is (<see cref="Models.TextModel.Decode"/>),
    /// holding back what a later token can still change: bytes of a character not complete yet, and a space followed by
    /// fewer than three characters (cleaning up tokenization spaces turns " ." into "." and " n't" into "n't").
    /// </summary>
    sealed class TextStream(LensModel lens, TextWriter output)
    {
        readonly List<int> _ids = [];
        string _printed = "";

        public void Add(int id)
        {
            _ids.Add(id);
            var text = lens.Decode(_ids).TrimEnd('\uFFFD');
            int space = text.LastIndexOf(' ');
            if (space >= 0 && text.Length - space < 4) text = text[..space];
            if (text.Length > _printed.Length && text.StartsWith(_printed, StringComparison.Ordinal)) Print(text);
        }

        /// <summary>Prints the rest of the finished completion.</summary>
        public void Finish(string completion)
        {
            if (!completion.StartsWith(_printed, StringComparison.Ordinal))
                throw new InvalidOperationException($"The streamed text \"{_printed}\" is not the start of the completion \"{completion}\".");
            Print(completion);
        }

        void Print(string text)
        {
            output.Write(text[_printed.Length..]);
            output.Flush();
            _printed = text;
        }
    }

    /// <summary>The JSON name of why generation ended: <c>stop</c>, <c>length</c>, <c>context_full</c>, <c>cancelled</c>.</summary>
    internal static string FinishName(FinishReason reason) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(reason.ToString());
}
