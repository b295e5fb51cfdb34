using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Models;

public class LanguageModelTests
{
    static readonly long[] Prompt = [128000, 791, 24149, 374, 6307, 13, 3639, 1933, 374, 279, 24149, 30];

    public LanguageModelTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Parameters_are_listed_with_hugging_face_names_in_module_order()
    {
        using var model = LanguageModel.Load(Fixtures.Llama);
        var names = model.Parameters.Select(p => p.Name).ToList();
        Assert.Equal("model.embed_tokens.weight", names[0]);
        Assert.Equal(
            ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "input_layernorm", "post_attention_layernorm"],
            names.Skip(1).Take(9).Select(n => n.Split('.')[^2]));
        Assert.All(names.Skip(1).Take(9), n => Assert.StartsWith("model.layers.0.", n));
        Assert.Equal("model.norm.weight", names[^1]);
        Assert.Equal(1 + 2 * 9 + 1, names.Count);
        var up = model.Parameters.Single(p => p.Name == "model.layers.1.mlp.up_proj.weight");
        Assert.Equal([128L, 64], up.Shape);
        Assert.Equal(ScalarType.BFloat16, up.DType);
        Assert.True(up.Loaded);
    }

    [Fact]
    public void Layer_numbers_sort_by_value()
    {
        var names = new[] { "model.layers.10.mlp.up_proj.weight", "model.layers.2.mlp.up_proj.weight", "model.norm.weight", "model.embed_tokens.weight" };
        Assert.Equal(
            ["model.embed_tokens.weight", "model.layers.2.mlp.up_proj.weight", "model.layers.10.mlp.up_proj.weight", "model.norm.weight"],
            names.Order(ParameterNameComparer.Instance));
    }

    [Fact]
    public void Parameter_count_is_the_sum_of_the_stored_shapes()
    {
        using var model = LanguageModel.Load(Fixtures.Llama);
        var c = model.Config;
        long d = c.HiddenSize, kv = c.NumKeyValueHeads * c.HeadDim, q = c.NumHeads * c.HeadDim;
        long perLayer = q * d + 2 * kv * d + d * q + 3 * c.IntermediateSize * d + 2 * d;
        Assert.Equal(c.VocabSize * d + c.NumLayers * perLayer + d, model.NumParameters);
        Assert.Equal(8_282_432, model.NumParameters);
    }

    [Fact]
    public void Parameters_by_name_share_the_model_memory_and_match_the_file()
    {
        using var model = LanguageModel.Load(Fixtures.Llama);
        using var scope = NewDisposeScope();
        var up = model.Parameter("model.layers.0.mlp.up_proj.weight");
        var fromFile = model.Checkpoint.Read("model.layers.0.mlp.up_proj.weight");
        TensorAssert.Identical(fromFile, up);
        up.Dispose();
        // Disposing the handle leaves the model's weight alive.
        using var again = model.Parameter("model.layers.0.mlp.up_proj.weight");
        TensorAssert.Identical(fromFile, again);
        var e = Assert.Throws<KeyNotFoundException>(() => model.Parameter("model.layers.0.mlp.up.weight"));
        Assert.Contains("model.layers.0.mlp.up.weight", e.Message);
    }

    [Fact]
    public void Embeddings_and_head_are_tied_when_config_says_so()
    {
        using var model = LanguageModel.Load(Fixtures.Gemma);
        Assert.True(model.TiedEmbeddings);
        Assert.Same(model.Embeddings, model.LmHead);
        Assert.Equal([262144L, 64], model.Embeddings.shape);
    }

    [Fact]
    public void Stored_dtype_is_kept_unless_asked_and_bf16_compute_tracks_fp32()
    {
        using var bf16 = LanguageModel.Load(Fixtures.Llama);
        using var fp32 = LanguageModel.Load(Fixtures.Llama, new LoadOptions { DType = ScalarType.Float32 });
        Assert.Equal(ScalarType.BFloat16, bf16.DType);
        Assert.Equal(ScalarType.BFloat16, bf16.Embeddings.dtype);
        Assert.Equal(ScalarType.Float32, fp32.Embeddings.dtype);
        using var scope = NewDisposeScope();
        var ids = tensor(Prompt);
        using var a = bf16.Forward(ids);
        using var b = fp32.Forward(ids);
        Assert.Equal(ScalarType.BFloat16, a.Logits.dtype);
        var diff = (a.Logits.to(ScalarType.Float32) - b.Logits).abs().max().item<float>();
        // bf16 keeps 8 mantissa bits: logits of magnitude ~10 move by a few hundredths, not by units.
        Assert.InRange(diff, 0f, 0.25f);
        Assert.True(diff > 0, "bf16 compute should differ from fp32 somewhere");
    }

    [Fact]
    public void A_model_loaded_inside_a_dispose_scope_survives_the_scope()
    {
        LanguageModel model;
        using (NewDisposeScope())
            model = LanguageModel.Load(Fixtures.Llama, new LoadOptions { DType = ScalarType.Float32 });
        using (model)
        using (var ids = tensor(Prompt))
        using (var result = model.Forward(ids))
            Assert.Equal(model.Config.VocabSize, result.Logits.shape[^1]);
    }

    [Fact]
    public void Bad_ids_are_clear_errors_and_leave_the_model_working()
    {
        using var model = LanguageModel.Load(Fixtures.Llama, new LoadOptions { DType = ScalarType.Float32 });
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(tensor(new long[] { 128000, 128256 })));
        Assert.Contains("128256", e.Message);
        Assert.Contains("0 .. 128255", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(tensor(new long[] { -1 })));
        Assert.Contains("integer", Assert.Throws<ArgumentException>(() => model.Forward(tensor(new float[] { 1f }))).Message);
        Assert.Throws<ArgumentException>(() => model.Forward(zeros(0, dtype: ScalarType.Int64)));
        using var ok = model.Forward(tensor(Prompt));
        Assert.Equal(Prompt.Length, ok.Logits.shape[1]);
    }

    [Fact]
    public void A_batch_of_rows_equals_each_row_alone()
    {
        using var model = LanguageModel.Load(Fixtures.Gemma, new LoadOptions { DType = ScalarType.Float32 });
        using var scope = NewDisposeScope();
        long[] a = [2, 818, 17810, 563, 3826, 236761, 2900], b = [2, 506, 17810, 2258, 563, 506, 818];
        using var batch = model.Forward(tensor(a.Concat(b).ToArray()).view(2, 7), ForwardOptions.Everything);
        using var alone = model.Forward(tensor(b), ForwardOptions.Everything);
        TensorAssert.Close(batch.Logits[1], alone.Logits[0], 1e-5, 1e-5, "logits");
        TensorAssert.Close(batch.Attentions![5][1], alone.Attentions![5][0], 1e-6, 0, "attn");
        TensorAssert.Close(batch.HiddenStates![3][1], alone.HiddenStates![3][0], 1e-5, 1e-5, "hidden");
    }

    [Fact]
    public void Last_position_logits_equal_the_full_ones_there()
    {
        using var model = LanguageModel.Load(Fixtures.Llama, new LoadOptions { DType = ScalarType.Float32 });
        using var scope = NewDisposeScope();
        using var full = model.Forward(tensor(Prompt));
        using var last = model.Forward(tensor(Prompt), new ForwardOptions { LastPositionLogitsOnly = true });
        Assert.Equal([1L, 1, model.Config.VocabSize], last.Logits.shape);
        TensorAssert.Close(last.Logits[0, 0], full.Logits[0, -1], 1e-5, 1e-5, "last logits");
        Assert.Null(last.HiddenStates);
        Assert.Null(last.Attentions);
    }

    [Fact]
    public void Gemma_sliding_layers_see_exactly_the_window()
    {
        using var model = LanguageModel.Load(Fixtures.Gemma, new LoadOptions { DType = ScalarType.Float32 });
        using var scope = NewDisposeScope();
        using var run = model.Forward(tensor(new long[] { 2, 818, 17810, 563, 3826, 236761, 2900, 2258 }), new ForwardOptions { Attentions = true });
        int window = model.Config.SlidingWindow!.Value;
        for (int l = 0; l < model.Config.NumLayers; l++)
        {
            var visible = run.Attentions![l][0, 0].gt(0);
            for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
            {
                bool expected = j <= i && (!model.Config.SlidingLayers[l] || j > i - window);
                Assert.Equal(expected, visible[i, j].item<bool>());
            }
        }
    }

    [Fact]
    public void A_disposed_model_says_so()
    {
        var model = LanguageModel.Load(Fixtures.Llama);
        model.Dispose();
        using var ids = tensor(Prompt);
        Assert.Throws<ObjectDisposedException>(() => model.Forward(ids));
    }
}
