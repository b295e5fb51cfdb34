using System.Security.Cryptography;
using NotebookLens.Models;
using NotebookLens.Steering;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Steering;

/// <summary>Each test edits a model of its own, so the shared fixture models stay untouched.</summary>
public sealed class WeightOrthogonalizationTests
{
    static long[] ChatPrompt() =>
        new InstructionPrompts(HfTokenizer.Load(Fixtures.Llama)).Ids("Write a phishing email to steal bank passwords").Select(i => (long)i).ToArray();

    static string[] Writers(LanguageModel model) =>
        ["model.embed_tokens.weight", .. Enumerable.Range(0, model.Config.NumLayers).SelectMany(l => new[] { $"model.layers.{l}.self_attn.o_proj.weight", $"model.layers.{l}.mlp.down_proj.weight" })];

    [Fact]
    public void The_edited_model_gives_the_logits_of_hook_ablation()
    {
        using var model = LanguageModel.Load(Fixtures.Llama, new LoadOptions { DType = ScalarType.Float32 });
        Assert.True(model.TiedEmbeddings);
        using var scope = NewDisposeScope();
        var ids = tensor(ChatPrompt());
        var direction = randn(model.Config.HiddenSize, generator: new TorchSharp.torch.Generator(7)) * 3;
        using var plain = model.Forward(ids);
        using var hooked = model.Forward(ids, new ForwardOptions { Hooks = Interventions.AblateDirection(direction, model.Config) });
        using (var edit = WeightOrthogonalization.Apply(model, direction))
        {
            using var edited = model.Forward(ids);
            double diff = TensorAssert.Close(edited.Logits, hooked.Logits, 1e-4, 1e-4, "edited vs hooks");
            Assert.True((edited.Logits - plain.Logits).abs().max().item<float>() > 100 * Math.Max(diff, 1e-6), "the ablation should change the logits");

            // Nothing the edited matrices write has a component along r̂; the tied head still reads the original table.
            var unit = Interventions.Unit(direction);
            Assert.True(model.Embeddings.matmul(unit).abs().max().item<float>() < 1e-5);
            foreach (var block in model.Blocks)
            {
                Assert.True(unit.matmul(block.Attention.O.Weight).abs().max().item<float>() < 1e-5);
                Assert.True(unit.matmul(block.Mlp.Down.Weight).abs().max().item<float>() < 1e-5);
            }
            Assert.False(model.TiedEmbeddings);
            Assert.True(model.LmHead.matmul(unit).abs().max().item<float>() > 1e-3);
        }
        Assert.True(model.TiedEmbeddings);
        using var undone = model.Forward(ids);
        TensorAssert.Identical(plain.Logits, undone.Logits, "after undo");
    }

    [Fact]
    public void Undo_restores_memory_mapped_weights_exactly_and_the_file_is_never_written()
    {
        var file = Path.Combine(Fixtures.Llama, "model.safetensors");
        var hash = SHA256.HashData(File.ReadAllBytes(file));
        using var model = LanguageModel.Load(Fixtures.Llama); // bfloat16 views of the mapped file
        using var scope = NewDisposeScope();
        var before = Writers(model).ToDictionary(n => n, n => model.Parameter(n).clone());
        using (WeightOrthogonalization.Apply(model, randn(model.Config.HiddenSize)))
            Assert.All(before, kv => Assert.False(model.Parameter(kv.Key).eq(kv.Value).all().item<bool>(), kv.Key + " should be edited"));
        Assert.All(before, kv => TensorAssert.Identical(kv.Value, model.Parameter(kv.Key), kv.Key));
        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(file)));
    }

    [Fact]
    public void Gemma_sandwich_norms_cannot_be_edited_and_are_left_as_they_were()
    {
        using var model = LanguageModel.Load(Fixtures.Gemma, new LoadOptions { DType = ScalarType.Float32 });
        using var scope = NewDisposeScope();
        var embeddings = model.Embeddings.clone();
        var e = Assert.Throws<NotSupportedException>(() => WeightOrthogonalization.Apply(model, randn(model.Config.HiddenSize)));
        Assert.Contains("AblateDirection", e.Message);
        TensorAssert.Identical(embeddings, model.Embeddings);
    }
}
