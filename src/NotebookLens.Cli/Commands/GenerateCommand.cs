using NotebookLens.Loading;
using NotebookLens.Generation;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>generate</c>: continues a prompt, streaming the generation's text view for a person, or with <c>--json</c> printing
/// <c>{"ids": [new token ids], "text": "...", "finish_reason": "..."}</c>.
/// </summary>
public sealed class GenerateCommand : ICommand
{
    public string Name => "generate";
    public string Usage => $"generate {ModelArgs.Usage} (--ids ID,... | --text TEXT) [--chat] [--system TEXT] --max-new-tokens N [--greedy | --temperature T --top-k K --top-p P --seed S] [--json]";
    public IReadOnlySet<string> Options { get; } = ModelArgs.Options.Concat(["ids", "text", "system", "max-new-tokens", "temperature", "top-k", "top-p", "seed"]).ToHashSet();
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "chat", "greedy", "json" };

    public int Run(CliArgs args, CliIO io)
    {
        string? idList = args.Get("ids"), text = args.Get("text"), system = args.Get("system");
        bool chat = args.Flag("chat"), json = args.Flag("json");
        if ((idList is null) == (text is null)) throw new UsageException("give either --ids or --text");
        if (chat && text is null) throw new UsageException("--chat wraps --text as a user message");
        if (system is not null && !chat) throw new UsageException("--system needs --chat");
        var options = Sampling(args) with { MaxNewTokens = CliArgs.ParseInt(args.Require("max-new-tokens"), "max-new-tokens", 0) };

        if (idList is not null && ModelArgs.Resolve(args, io, ModelParts.Weights) is var folder && !File.Exists(Path.Combine(folder, "tokenizer.json")))
            return GenerateIds(args, io, folder, DumpCommand.ParseIds(idList), options, json);

        using var lens = ModelArgs.LoadLens(args, io);
        var prompt = idList is not null ? lens.Prompt(DumpCommand.ParseIds(idList).Select(i => (int)i))
            : chat ? lens.ChatPrompt(text!, system)
            : lens.Prompt(text!);
        if (json)
        {
            var result = lens.Generate(prompt, options);
            io.Output.WriteLine(CliJson.Serialize(new { ids = result.NewIds, text = result.Text, finish_reason = result.FinishReason.ToString().ToLowerInvariant() }));
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
    static int GenerateIds(CliArgs args, CliIO io, string folder, long[] ids, GenerationOptions options, bool json)
    {
        using var model = ModelArgs.Load(args, folder);
        var result = model.Generate(ids.Select(i => (int)i).ToList(), options);
        var finish = result.FinishReason.ToString().ToLowerInvariant();
        if (json) io.Output.WriteLine(CliJson.Serialize(new { ids = result.NewIds, text = (string?)null, finish_reason = finish }));
        else io.Output.WriteLine($"{string.Join(",", result.NewIds)}\n(no text: {folder} has no tokenizer.json; finished: {finish})");
        return 0;
    }

    static GenerationOptions Sampling(CliArgs args)
    {
        string? temperature = args.Get("temperature"), topK = args.Get("top-k"), topP = args.Get("top-p"), seed = args.Get("seed");
        bool sampling = temperature is not null || topK is not null || topP is not null || seed is not null;
        if (args.Flag("greedy") && sampling) throw new UsageException("--greedy cannot be combined with --temperature, --top-k, --top-p or --seed");
        if (!sampling) return new GenerationOptions();
        if (temperature is null) throw new UsageException("sampling needs --temperature T (> 0)");
        var options = new GenerationOptions
        {
            Temperature = CliArgs.ParseDouble(temperature, "temperature"),
            TopK = args.Int("top-k", 0),
            TopP = args.Double("top-p", 1.0),
            Seed = args.Int("seed", 0, int.MinValue),
        };
        if (options.Temperature <= 0) throw new UsageException("--temperature must be > 0 (use --greedy for greedy decoding)");
        if (options.TopP is <= 0 or > 1) throw new UsageException("--top-p must be in (0, 1]");
        return options;
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
}
