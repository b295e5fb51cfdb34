using System.CommandLine;
using System.Text.Json;
using NotebookLens.Loading;
using NotebookLens.Tokenization;
using NotebookLens.Views;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>chat</c>: renders a messages file with the model's chat template and shows it with its tokens (the chat prompt's view); with <c>--json</c>
/// <c>{"text": rendered, "ids": [...]}</c> (ids of the rendered text, BOS not added a second time).
/// </summary>
public sealed class ChatCommand : Verb
{
    readonly ModelArgs _model;
    readonly Option<string> _messages;
    readonly Option<bool> _generationPrompt;
    readonly ViewOutput _output;

    public ChatCommand(CliIO io) : base(io, "chat", "Renders a conversation with the model's chat template and shows the prompt the model really reads, with its tokens.",
        "chat --messages conversation.json --add-generation-prompt")
    {
        _model = new ModelArgs(this, dtype: false);
        _messages = Declare(CliOptions.Text("--messages", "FILE.json",
            "A JSON file with the conversation: [{\"role\": \"system\", \"content\": \"...\"}, {\"role\": \"user\", \"content\": \"...\"}]; roles are system, user and assistant.").Required());
        _generationPrompt = Declare(CliOptions.Flag("--add-generation-prompt", "End with the start of the assistant's turn, so what the model writes next is its reply."));
        _output = new ViewOutput(this, json: "{\"text\": the rendered prompt, \"ids\": its token ids}", html: false);
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var path = args.GetValue(_messages)!;
        if (!File.Exists(path)) throw new FileNotFoundException($"Messages file not found: {path}", path);
        JsonElement messages;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            messages = doc.RootElement.Clone();
        }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e); }
        var prompt = Prompt.FromChat(HfTokenizer.Load(_model.Resolve(args, io, ModelParts.Tokenizer)), messages, args.GetValue(_generationPrompt));
        _output.Write(args, io, "chat prompt", [TokensView.Create(prompt)], () => new { text = prompt.Text, ids = prompt.Ids });
        return 0;
    }
}
