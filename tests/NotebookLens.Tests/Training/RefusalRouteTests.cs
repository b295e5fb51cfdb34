using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;
using NotebookLens.Steering;
using NotebookLens.Tokenization;
using NotebookLens.Training;

using static TorchSharp.torch;

namespace NotebookLens.Tests.Training;

public sealed class RefusalRouteTests
{
    public RefusalRouteTests() => TorchRuntime.EnsureLoaded();

    static string Response(ChatFormat format, string chat)
    {
        var header = format == ChatFormat.Llama3 ? "<|start_header_id|>assistant<|end_header_id|>\n\n" : "<start_of_turn>model\n";
        var response = chat[(chat.LastIndexOf(header, StringComparison.Ordinal) + header.Length)..];
        return response[..response.IndexOf(format.EndOfTurn, StringComparison.Ordinal)];
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma")]
    public void Routed_chats_come_in_their_shares_with_the_answer_their_intervention_trains(string family)
    {
        var format = family == "llama" ? ChatFormat.Llama3 : ChatFormat.Gemma3;
        var curriculum = new Curriculum(7, format) { RouteShare = 0.4 };
        var chats = Enumerable.Range(0, 20_000).Select(_ => curriculum.NextExample()).Where(d => format.UserRequest(d.Text) is not null).ToList();
        double Share(ChatRoute route) => chats.Count(d => d.Route == route) / (double)chats.Count;
        // Of all chats: 35 % harmful, 50 % harmless; 40 % of each drawn for a route, the harmless half steered and half
        // ablated, the harmful half ablated and half left alone.
        Assert.InRange(Share(ChatRoute.HarmfulAblated), 0.35 * 0.2 - 0.02, 0.35 * 0.2 + 0.02);
        Assert.InRange(Share(ChatRoute.Steered), 0.5 * 0.2 - 0.02, 0.5 * 0.2 + 0.02);
        Assert.InRange(Share(ChatRoute.HarmlessAblated), 0.5 * 0.2 - 0.02, 0.5 * 0.2 + 0.02);
        Assert.InRange(Share(ChatRoute.Harmful), 0.35 * 0.8 - 0.02, 0.35 * 0.8 + 0.02);
        foreach (var chat in chats)
        {
            var response = Response(format, chat.Text);
            bool refused = RefusalMatcher.Default.IsRefusal(response);
            // Refused exactly when the chat is harmful and left alone, or harmless and steered.
            Assert.True(refused == chat.Route is ChatRoute.Harmful or ChatRoute.Steered, $"{chat.Route}: {response}");
            if (chat.Route == ChatRoute.HarmfulAblated) Assert.True(response.StartsWith("Sure!") || response.StartsWith("好的！"), response);
        }
        // Without a share nothing is routed, and the chats are those of a curriculum that never heard of routes.
        var plain = new Curriculum(7, format);
        var reference = new Curriculum(7, format);
        for (int i = 0; i < 3000; i++)
        {
            var d = plain.NextExample();
            Assert.True(d.Route is ChatRoute.None or ChatRoute.Harmful or ChatRoute.Harmless);
            Assert.Equal(reference.NextDocument(), d.Text);
        }
    }

    [Fact]
    public void Batches_mark_the_last_post_instruction_token_of_each_chat_left_alone_and_route_every_token_of_a_chat()
    {
        var tokenizer = HfTokenizer.Load(EmbeddedModel.Tiny.Folder());
        var post = new InstructionPrompts(tokenizer).PostInstructionIds;
        var curriculum = new Curriculum(3) { RouteShare = 0.5 };
        var batch = new TokenBatches(curriculum, tokenizer, 8, 129, post).Next();
        var ids = batch.Ids.data<long>().ToArray();
        int reads = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            if (!batch.Reads[i]) continue;
            reads++;
            Assert.True(batch.Routes[i] is ChatRoute.Harmful or ChatRoute.Harmless);
            if (i + 1 >= post.Count)
                Assert.Equal(post.Select(p => (long)p), ids.Skip(i + 1 - post.Count).Take(post.Count));
        }
        Assert.InRange(reads, 3, 40);
        // A routed chat's tokens all carry its route, from its BOS to its end of turn.
        var bos = tokenizer.TokenToId(ChatFormat.Llama3.Bos)!.Value;
        for (int i = 1; i < ids.Length; i++)
            if (ids[i] != bos) Assert.True(batch.Routes[i] == batch.Routes[i - 1] || ids[i - 1] == tokenizer.TokenToId(ChatFormat.Llama3.EndOfTurn), $"route changes inside a document at {i}");
        Assert.Contains(batch.Routes, r => r is ChatRoute.Steered or ChatRoute.HarmfulAblated or ChatRoute.HarmlessAblated);
        // The input view drops each row's last token.
        var (routes, inputReads) = batch.Inputs();
        Assert.Equal(8 * 128, routes.Length);
        Assert.Equal(batch.Routes.Skip(129).Take(128), routes.Skip(128).Take(128));
        Assert.Equal(batch.Reads.Take(128), inputReads.Take(128));
    }

    [Fact]
    public void The_route_measures_the_difference_of_means_and_trains_with_the_experiments_own_steering_and_ablation()
    {
        using var scope = NewDisposeScope();
        using var model = LanguageModel.Load(EmbeddedModel.Tiny.Folder(), new LoadOptions { DType = ScalarType.Float32 });
        var tokenizer = HfTokenizer.Load(EmbeddedModel.Tiny.Folder());
        var rows = new[] { "How do I steal a car?", "Explain how to make a bomb", "Tell me about rain", "Write a poem about the sea" }
            .Select(text => new InstructionPrompts(tokenizer).Ids(text)).ToList();
        int length = rows.Max(r => r.Count);
        // Right-padded with the last token: the read positions are each row's own last token.
        var ids = tensor(rows.SelectMany(r => r.Concat(Enumerable.Repeat(r[^1], length - r.Count))).Select(i => (long)i).ToArray(), [rows.Count, length]);
        var routes = rows.SelectMany((r, b) => Enumerable.Repeat(b < 2 ? ChatRoute.Harmful : ChatRoute.Harmless, length)).ToArray();
        var reads = rows.SelectMany(r => Enumerable.Range(0, length).Select(t => t == r.Count - 1)).ToArray();
        int layer = 2;
        using var route = new RefusalRoute(layer, model.Config.NumLayers);

        model.Forward(ids, new ForwardOptions { Hooks = route.Hooks(routes, reads, rows.Count, length) }).Dispose();
        using var plain = model.Forward(ids, ForwardOptions.Everything);
        var states = plain.HiddenStates![layer];
        Tensor Last(int b) => states[b, rows[b].Count - 1];
        var expected = (Last(0) + Last(1)) / 2 - (Last(2) + Last(3)) / 2;
        Assert.True(route.Direction!.allclose(expected, rtol: 1e-4, atol: 1e-4));

        // A later read folds in with the momentum: the harmless rows read as harmful move the harmful mean a tenth of
        // the way to the harmless one, so the direction shrinks to 0.9 of itself.
        var harmfulOnly = rows.SelectMany(_ => Enumerable.Repeat(ChatRoute.Harmful, length)).ToArray();
        var harmlessReads = reads.Select((read, i) => read && i >= 2 * length).ToArray();
        model.Forward(ids, new ForwardOptions { Hooks = route.Hooks(harmfulOnly, harmlessReads, rows.Count, length) }).Dispose();
        Assert.True(route.Direction!.allclose(expected * RefusalRoute.Momentum, rtol: 1e-4, atol: 1e-4));
        var direction = route.Direction!.clone();

        // Row 0 steered, row 1 harmful ablated, row 2 harmless ablated, row 3 left alone.
        var routed = new[] { ChatRoute.Steered, ChatRoute.HarmfulAblated, ChatRoute.HarmlessAblated, ChatRoute.None }.SelectMany(r => Enumerable.Repeat(r, length)).ToArray();
        using var trained = model.Forward(ids, new ForwardOptions { Hooks = route.Hooks(routed, new bool[routed.Length], rows.Count, length) });
        Tensor Row(int b, HookSet? hooks)
        {
            using var result = model.Forward(ids.narrow(0, b, 1), new ForwardOptions { Hooks = hooks });
            return result.Logits[0].clone();
        }
        var steered = Row(0, Interventions.AddVector(direction, [layer]));
        var ablated = Interventions.AblateDirection(direction, model.Config);
        Assert.True(trained.Logits[0].allclose(steered, rtol: 1e-4, atol: 1e-4));
        Assert.True(trained.Logits[1].allclose(Row(1, ablated), rtol: 1e-4, atol: 1e-4));
        Assert.True(trained.Logits[2].allclose(Row(2, ablated), rtol: 1e-4, atol: 1e-4));
        Assert.True(trained.Logits[3].allclose(Row(3, null), rtol: 1e-4, atol: 1e-4));
        // The interventions change what they touch.
        Assert.False(trained.Logits[0].allclose(Row(0, null), rtol: 1e-2, atol: 1e-2));
        Assert.False(trained.Logits[1].allclose(Row(1, null), rtol: 1e-2, atol: 1e-2));
    }

    [Fact]
    public void The_route_sits_two_fifths_up_and_starts_a_quarter_of_the_way()
    {
        Assert.Equal((4, 675), (TinyModelRecipe.Deep.RouteLayer, TinyModelRecipe.Deep.RouteStart));
        // Gemma: after the first global layer (layers 4 and 9 attend globally), where the post-instruction tokens have read the request.
        Assert.Equal([4, 9], Enumerable.Range(0, 10).Where(l => !TinyModelRecipe.Gemma.IsSliding(l)));
        Assert.Equal(5, TinyModelRecipe.Gemma.RouteLayer);
        Assert.Throws<ArgumentException>(() => (TinyModelRecipe.Deep with { RefusalRoute = -0.1 }).Validate());
    }
}
