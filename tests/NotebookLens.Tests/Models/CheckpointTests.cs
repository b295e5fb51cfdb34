using System.Text.Json.Nodes;
using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Models;

public class CheckpointTests
{
    static readonly LoadOptions Fp32 = new() { DType = ScalarType.Float32 };
    static readonly long[] Prompt = [128000, 791, 24149, 374, 6307, 13, 3639, 1933];
    static readonly long[] GemmaPrompt = [2, 818, 17810, 563, 3826, 236761, 2900, 2258, 563, 506];

    public CheckpointTests() => TorchRuntime.EnsureLoaded();

    static Tensor Logits(string folder, long[] ids, LoadOptions? options = null)
    {
        using var model = LanguageModel.Load(folder, options ?? Fp32);
        using var input = tensor(ids);
        using var result = model.Forward(input);
        return result.Logits.clone();
    }

    [Fact]
    public void Sharded_checkpoint_gives_the_same_logits_as_the_single_file()
    {
        using var builder = new CheckpointBuilder(Fixtures.Llama);
        var sharded = builder.Write(shards: 3);
        Assert.Equal(3, Directory.GetFiles(sharded, "model-*-of-00003.safetensors").Length);
        using var expected = Logits(Fixtures.Llama, Prompt);
        using var actual = Logits(sharded, Prompt);
        TensorAssert.Identical(expected, actual);
    }

    [Fact]
    public void A_shard_missing_from_the_index_is_named()
    {
        using var builder = new CheckpointBuilder(Fixtures.Llama);
        var dir = builder.Write(shards: 2);
        File.Delete(Path.Combine(dir, "model-00002-of-00002.safetensors"));
        var e = Assert.Throws<FileNotFoundException>(() => LanguageModel.Load(dir));
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
        Assert.Contains("incomplete", e.Message);
    }

    [Fact]
    public void Pickle_only_folders_say_to_get_safetensors()
    {
        var dir = Fixtures.TempDir();
        File.Copy(Path.Combine(Fixtures.Llama, "config.json"), Path.Combine(dir, "config.json"));
        File.WriteAllBytes(Path.Combine(dir, "pytorch_model.bin"), [0x80, 0x02]);
        var e = Assert.Throws<FileNotFoundException>(() => LanguageModel.Load(dir));
        Assert.Contains("pytorch_model.bin", e.Message);
        Assert.Contains("safetensors", e.Message);
    }

    [Fact]
    public void Other_safetensors_files_beside_the_model_are_ignored()
    {
        using var builder = new CheckpointBuilder(Fixtures.Llama);
        var dir = builder.Write();
        File.Copy(Path.Combine(Fixtures.Llama, "golden.safetensors"), Path.Combine(dir, "adapter_model.safetensors"));
        using var model = LanguageModel.Load(dir);
        Assert.DoesNotContain(model.Parameters, p => p.Name.StartsWith("logits", StringComparison.Ordinal));
    }

    [Fact]
    public void Missing_folder_and_missing_config_are_clear()
    {
        Assert.Contains("not found", Assert.Throws<DirectoryNotFoundException>(() => LanguageModel.Load("/no/such/model")).Message);
        var empty = Fixtures.TempDir();
        Assert.Contains("config.json is missing", Assert.Throws<FileNotFoundException>(() => LanguageModel.Load(empty)).Message);
    }

    [Fact]
    public void Unknown_model_type_names_what_is_supported()
    {
        using var builder = new CheckpointBuilder(Fixtures.Llama);
        builder.Config["model_type"] = "mamba";
        var e = Assert.Throws<NotSupportedException>(() => LanguageModel.Load(builder.Write()));
        Assert.Contains("'mamba'", e.Message);
        Assert.Contains("llama", e.Message);
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        using var builder = new CheckpointBuilder(Fixtures.Llama);
        builder.Tensors.Remove("model.layers.1.mlp.up_proj.weight");
        var e = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(builder.Write()));
        Assert.Contains("model.layers.1.mlp.up_proj.weight", e.Message);
    }

    [Fact]
    public void A_shape_that_contradicts_config_is_named()
    {
        using var builder = new CheckpointBuilder(Fixtures.Llama);
        builder.Config["intermediate_size"] = 256;
        var e = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(builder.Write()));
        Assert.Contains("gate_proj", e.Message);
        Assert.Contains("[128, 64]", e.Message);
        Assert.Contains("[256, 64]", e.Message);
    }

    [Fact]
    public void Untied_head_is_used_and_required()
    {
        using var builder = new CheckpointBuilder(Fixtures.Llama);
        builder.Config["tie_word_embeddings"] = false;
        var missing = builder.Write();
        Assert.Contains("lm_head.weight", Assert.Throws<InvalidDataException>(() => LanguageModel.Load(missing)).Message);

        builder.Tensors["lm_head.weight"] = builder.Tensors["model.embed_tokens.weight"].flip(0).contiguous();
        using var model = LanguageModel.Load(builder.Write(), Fp32);
        Assert.False(model.TiedEmbeddings);
        using var scope = NewDisposeScope();
        using var result = model.Forward(tensor(Prompt), new ForwardOptions { HiddenStates = true });
        var expected = result.HiddenStates![^1].matmul(builder.Tensors["lm_head.weight"].to(ScalarType.Float32).t());
        TensorAssert.Close(result.Logits, expected, 1e-5, 1e-5, "untied logits");
        Assert.Equal(model.Config.VocabSize * (long)model.Config.HiddenSize,
            model.NumParameters - LanguageModel.Load(Fixtures.Llama).NumParameters);
    }

    [Fact]
    public void Multimodal_gemma3_runs_its_language_model_and_lists_the_vision_tower()
    {
        using var builder = new CheckpointBuilder(Fixtures.Gemma);
        var text = builder.Config;
        text["model_type"] = "gemma3_text";
        builder.Config = new JsonObject
        {
            ["architectures"] = new JsonArray("Gemma3ForConditionalGeneration"),
            ["model_type"] = "gemma3",
            ["eos_token_id"] = new JsonArray(1, 106),
            ["text_config"] = text.DeepClone(),
            ["vision_config"] = new JsonObject { ["model_type"] = "siglip_vision_model", ["hidden_size"] = 8 },
        };
        builder.Rename(n => "language_model." + n);
        builder.Tensors["vision_tower.vision_model.embeddings.patch_embedding.weight"] = randn(8, 3, 2, 2).to(ScalarType.BFloat16);
        builder.Tensors["multi_modal_projector.mm_input_projection_weight"] = randn(8, 64).to(ScalarType.BFloat16);
        var dir = builder.Write();

        using var expected = Logits(Fixtures.Gemma, GemmaPrompt);
        using var actual = Logits(dir, GemmaPrompt);
        TensorAssert.Identical(expected, actual);

        using var model = LanguageModel.Load(dir);
        Assert.Equal("gemma3", model.Config.ModelType);
        Assert.Equal("language_model.model.", model.Checkpoint.TextPrefix);
        var vision = model.Parameters.Single(p => p.Name == "vision_tower.vision_model.embeddings.patch_embedding.weight");
        Assert.False(vision.Loaded);
        Assert.Equal([8L, 3, 2, 2], vision.Shape);
        Assert.True(model.Parameters.Single(p => p.Name == "language_model.model.embed_tokens.weight").Loaded);
        Assert.Equal(LanguageModel.Load(Fixtures.Gemma).NumParameters + 8 * 3 * 2 * 2 + 8 * 64, model.NumParameters);
        using var patch = model.Parameter("vision_tower.vision_model.embeddings.patch_embedding.weight");
        TensorAssert.Identical(patch, builder.Tensors["vision_tower.vision_model.embeddings.patch_embedding.weight"]);
        // The text model's weights answer to their stored names and to the plain text-model names.
        using var q = model.Parameter("model.layers.0.self_attn.q_proj.weight");
        using var stored = model.Parameter("language_model.model.layers.0.self_attn.q_proj.weight");
        TensorAssert.Identical(q, stored);
    }

    [Fact]
    public void Multimodal_weights_saved_by_newer_transformers_are_found_too()
    {
        using var builder = new CheckpointBuilder(Fixtures.Gemma);
        var text = builder.Config.DeepClone();
        builder.Config = new JsonObject { ["model_type"] = "gemma3", ["text_config"] = text };
        builder.Rename(n => n.Replace("model.", "model.language_model.", StringComparison.Ordinal));
        using var model = LanguageModel.Load(builder.Write());
        Assert.Equal("model.language_model.", model.Checkpoint.TextPrefix);
    }
}
