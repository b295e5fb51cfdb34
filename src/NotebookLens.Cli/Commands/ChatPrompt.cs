using NotebookLens.Tokenization;

namespace NotebookLens.Cli.Commands;

/// <summary>Chat prompts from the command line: messages, rendered with the model's template, encoded without a second BOS.</summary>
static class ChatPrompt
{
    public static IReadOnlyList<ChatMessage> Messages(string? system, string user) =>
        system is null ? [new ChatMessage("user", user)] : [new ChatMessage("system", system), new ChatMessage("user", user)];

    public static List<int> Ids(HfTokenizer tokenizer, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt) =>
        tokenizer.Encode(tokenizer.ApplyChatTemplate(messages, addGenerationPrompt), addSpecialTokens: false).ToList();
}
