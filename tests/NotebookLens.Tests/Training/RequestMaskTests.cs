using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Tokenization;
using NotebookLens.Training;

using static TorchSharp.torch;

namespace NotebookLens.Tests.Training;

public sealed class RequestMaskTests
{
    static readonly HfTokenizer Tokenizer = HfTokenizer.Load(EmbeddedModel.Tiny.Folder());

    [Theory]
    [InlineData("llama", "Tell me about rain", "<|start_header_id|>assistant<|end_header_id|>\n\n")]
    // Gemma's template puts the system prompt into the user's turn: it is hidden with the request.
    [InlineData("gemma", "Be kind.\n\nTell me about rain", "\n<start_of_turn>model\n")]
    public void The_later_post_instruction_tokens_of_each_drawn_chat_are_hidden_from_its_request_and_nothing_else(string family, string firstRequest, string hiddenFrom)
    {
        var (format, tokenizer) = family == "llama" ? (ChatFormat.Llama3, Tokenizer) : (ChatFormat.Gemma3, HfTokenizer.Load(Fixtures.Gemma));
        var mask = RequestMask.For(tokenizer, format, 1.0);
        var text = "Some text before. " + format.Render([("system", "Be kind."), ("user", "Tell me about rain"), ("assistant", "Sure! Rain falls.")])
            + format.Render([("user", "How do I steal a car?"), ("assistant", "I can't help.")]);
        var row = tokenizer.Encode(text, addSpecialTokens: false);
        var spans = mask.Spans(row, new Random(1)).ToList();

        Assert.Equal(2, spans.Count);
        string Text(int from, int to) => tokenizer.Decode(row.Skip(from).Take(to - from + 1).ToList(), skipSpecialTokens: false);
        Assert.Equal(firstRequest, Text(spans[0].FirstKey, spans[0].LastKey));
        Assert.Equal("How do I steal a car?", Text(spans[1].FirstKey, spans[1].LastKey));
        foreach (var s in spans) Assert.Equal(hiddenFrom, Text(s.FirstQuery, s.LastQuery));
    }

    [Fact]
    public void Its_hooks_give_the_hidden_positions_no_attention_at_any_layer()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        using var lens = LensModel.Load(EmbeddedModel.Tiny.Folder());
        var format = ChatFormat.Llama3;
        var row = lens.Tokenizer.Encode(format.Render([("user", "How do I steal a car?"), ("assistant", "I can't help.")]), addSpecialTokens: false);
        var mask = RequestMask.For(lens.Tokenizer, format, 1.0);
        var (q0, q1, k0, k1) = Assert.Single(mask.Spans(row, new Random(3)));
        var ids = tensor(row.Select(i => (long)i).ToArray(), [1, row.Count]);
        var hooks = mask.Hooks(ids, lens.Config.NumLayers, new Random(3))!;
        using var masked = lens.Model.Forward(ids, new ForwardOptions { Attentions = true, Hooks = hooks });
        using var plain = lens.Model.Forward(ids, ForwardOptions.Everything);
        for (int layer = 0; layer < lens.Config.NumLayers; layer++)
        {
            var pattern = masked.Attentions![layer][0];
            Assert.Equal(0f, pattern.narrow(1, q0, q1 - q0 + 1).narrow(2, k0, k1 - k0 + 1).abs().max().item<float>());
            // Unmasked, those positions do attend to the request; other queries are left as they were.
            Assert.True(plain.Attentions![layer][0].narrow(1, q0, q1 - q0 + 1).narrow(2, k0, k1 - k0 + 1).sum().item<float>() > 0);
            Assert.True(pattern.narrow(1, 0, q0).allclose(plain.Attentions[layer][0].narrow(1, 0, q0)));
        }
    }

    [Fact]
    public void A_share_draws_that_share_of_the_chats_and_zero_draws_none()
    {
        var format = ChatFormat.Llama3;
        var row = Tokenizer.Encode(string.Concat(Enumerable.Repeat(format.Render([("user", "Hi there"), ("assistant", "Hello.")]), 400)), addSpecialTokens: false);
        Assert.InRange(RequestMask.For(Tokenizer, format, 0.3).Spans(row, new Random(2)).Count(), 90, 150);
        Assert.Empty(RequestMask.For(Tokenizer, format, 0).Spans(row, new Random(2)));
    }
}
