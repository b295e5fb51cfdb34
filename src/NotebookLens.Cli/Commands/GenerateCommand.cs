using NotebookLens.Tokenization;
using NotebookLens.Generation;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>generate</c>: continues a prompt, streaming the text for a person, or with <c>--json</c> printing
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

        using var lens = ModelArgs.LoadLens(args, io);
        var prompt = idList is not null ? lens.Prompt(DumpCommand.ParseIds(idList).Select(i => (int)i))
            : chat ? lens.ChatPrompt(text!, system)
            : lens.Prompt(text!);
        var stream = json ? null : new TextStream(lens.Tokenizer, io.Output);
        var result = lens.Generate(prompt, options with { OnToken = stream is null ? null : t => stream.Add(t.Id) });
        var decoded = result.Text;
        if (json)
            io.Output.WriteLine(CliJson.Serialize(new { ids = result.NewIds, text = decoded, finish_reason = result.FinishReason.ToString().ToLowerInvariant() }));
        else
            io.Output.WriteLine();
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

    /// <summary>Prints the text of the tokens so far as it grows, holding back bytes of a character not yet complete.</summary>
    sealed class TextStream(HfTokenizer tokenizer, TextWriter output)
    {
        readonly List<int> _ids = [];
        int _printed;

        public void Add(int id)
        {
            _ids.Add(id);
            var text = tokenizer.Decode(_ids, skipSpecialTokens: true, cleanUpTokenizationSpaces: false);
            int ready = text.EndsWith('\uFFFD') ? text.TrimEnd('\uFFFD').Length : text.Length;
            if (ready <= _printed) return;
            output.Write(text[_printed..ready]);
            output.Flush();
            _printed = ready;
        }
    }
}
