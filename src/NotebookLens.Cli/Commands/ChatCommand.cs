using System.Text.Json;
using NotebookLens.Loading;
using NotebookLens.Tokenization;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>chat</c>: renders a messages file with the model's chat template and shows it with its tokens (the chat prompt's view); with <c>--json</c>
/// <c>{"text": rendered, "ids": [...]}</c> (ids of the rendered text, BOS not added a second time).
/// </summary>
public sealed class ChatCommand : ICommand
{
    public string Name => "chat";
    public string Usage => $"chat {ModelArgs.ModelUsage} --messages FILE.json [--add-generation-prompt] [--json]";
    public IReadOnlySet<string> Options { get; } = new HashSet<string> { "model", "messages" };
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "add-generation-prompt", "json" };

    public int Run(CliArgs args, CliIO io)
    {
        var path = args.Require("messages");
        bool generationPrompt = args.Flag("add-generation-prompt"), json = args.Flag("json");
        if (!File.Exists(path)) throw new FileNotFoundException($"Messages file not found: {path}", path);
        JsonElement messages;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            messages = doc.RootElement.Clone();
        }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e); }
        var prompt = Prompt.FromChat(HfTokenizer.Load(ModelArgs.Resolve(args, io, ModelParts.Tokenizer)), messages, generationPrompt);
        ViewOutput.Write(args, io, "chat prompt", TokensView.Create(prompt));
        if (json) io.Output.WriteLine(CliJson.Serialize(new { text = prompt.Text, ids = prompt.Ids }));
        return 0;
    }
}
