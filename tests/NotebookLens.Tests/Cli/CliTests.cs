using System.Diagnostics;
using System.Text.Json;
using NotebookLens.Cli;
using static NotebookLens.Tests.Cli.CliRunner;
using NotebookLens.Loading;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Cli;

public class CliTests
{


    static string Ids(Tensor ids) => string.Join(",", ids.data<long>().ToArray());

    [Theory]
    [InlineData("llama3-tiny", "llama", 2, 8_282_432, 64, 128256)]
    [InlineData("gemma3-tiny", "gemma3_text", 6, 16_987_904, 64, 262144)]
    public void Info_json_has_the_contract_fields(string fixture, string type, int layers, long parameters, int hidden, int vocab)
    {
        var (code, output, _) = Run("info", "--model", Path.Combine(Fixtures.Root, fixture), "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        Assert.Equal(type, r.GetProperty("model_type").GetString());
        Assert.Equal(layers, r.GetProperty("num_layers").GetInt32());
        Assert.Equal(parameters, r.GetProperty("num_parameters").GetInt64());
        Assert.Equal(hidden, r.GetProperty("hidden_size").GetInt32());
        Assert.Equal(vocab, r.GetProperty("vocab_size").GetInt32());
        Assert.Equal("bfloat16", r.GetProperty("dtype").GetString());
        // How the engine runs: libtorch's preparation and the bf16 kernel's loops on this CPU.
        var engine = r.GetProperty("engine").GetString()!;
        Assert.Contains("OpenMP", engine);
        Assert.Contains(NotebookLens.Models.Bf16MatVec.Dot ? "AVX512_BF16 dot products" : "bf16 products: 1 row", engine);
        Assert.Contains(NotebookLens.Models.F32Gemm.Description, engine);
    }

    [Fact]
    public void Without_model_every_verb_uses_the_embedded_tiny_model()
    {
        var (code, output, err) = Run("info", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        var recipe = NotebookLens.Training.TinyModelRecipe.Default;
        Assert.Equal("llama", r.GetProperty("model_type").GetString());
        Assert.Equal(recipe.Layers, r.GetProperty("num_layers").GetInt32());
        Assert.Equal(recipe.HiddenSize, r.GetProperty("hidden_size").GetInt32());
        Assert.Equal(recipe.VocabSize, r.GetProperty("vocab_size").GetInt32());

        (code, output, err) = Run("tokenize", "--model", "tiny", "--text", "今天天氣真好");
        Assert.True(code == 0, err);
        Assert.Matches(@"\s天氣\s+å¤©æ°£", output);
    }

    [Fact]
    public void Info_lists_parameters_for_a_person()
    {
        var (code, output, _) = Run("info", "--model", Fixtures.Gemma, "--parameters", "--dtype", "float32");
        Assert.Equal(0, code);
        Assert.Contains("16,987,904", output);
        Assert.Contains("4 tokens on 5 of 6 layers (full attention: 5)", output);
        Assert.Matches(@"model\.layers\.5\.self_attn\.q_norm\.weight\s+\[16\]\s+float32", output);
        Assert.Matches(@"model\.embed_tokens\.weight\s+\[262144, 64\]", output);
    }

    [Fact]
    public void Info_json_parameters_list_names_and_shapes()
    {
        var (_, output, _) = Run("info", "--model", Fixtures.Llama, "--json", "--parameters");
        using var doc = JsonDocument.Parse(output);
        var first = doc.RootElement.GetProperty("parameters")[0];
        Assert.Equal("model.embed_tokens.weight", first.GetProperty("name").GetString());
        Assert.Equal([128256, 64], first.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));
    }

    public static TheoryData<string, int> DumpCases() => new() { { "llama3-tiny", 0 }, { "llama3-tiny", 3 }, { "gemma3-tiny", 2 }, { "gemma3-tiny", 3 } };

    [Theory]
    [MemberData(nameof(DumpCases))]
    public void Dump_reproduces_the_golden_run(string fixture, int p)
    {
        var folder = Path.Combine(Fixtures.Root, fixture);
        using var golden = new Golden(folder);
        using var scope = NewDisposeScope();
        var ids = golden[$"input_ids.{p}"];
        var outPath = Path.Combine(Fixtures.TempDir(), "run.safetensors");
        var (code, _, err) = Run("dump", "--model", folder, "--ids", Ids(ids), "--dtype", "float32", "--out", outPath);
        Assert.True(code == 0, err);

        using var dump = SafeTensorsFile.Open(outPath);
        int layers = fixture.StartsWith("llama", StringComparison.Ordinal) ? 2 : 6;
        var expectedKeys = new[] { "input_ids", "logits", "prenorm_last" }
            .Concat(Enumerable.Range(0, layers + 1).Select(i => $"hidden.{i}"))
            .Concat(Enumerable.Range(0, layers).Select(l => $"attn.{l}"));
        Assert.Equal(expectedKeys.Order(), dump.Tensors.Keys.Order());
        Assert.All(dump.Tensors.Values.Where(t => t.Name != "input_ids"), t => Assert.Equal("F32", t.DType));
        Assert.Equal("I64", dump.Tensors["input_ids"].DType);
        Assert.Equal("float32", dump.Metadata["dtype"]);

        TensorAssert.Identical(ids, dump.Read("input_ids"));
        var logits = dump.Read("logits");
        TensorAssert.Close(logits[-1], golden[$"logits_last.{p}"], 1e-4, 1e-4, "logits_last");
        TensorAssert.Close(logits.index_select(1, golden["logits_probe_ids"]), golden[$"logits_probe.{p}"], 1e-4, 1e-4, "logits_probe");
        for (int i = 0; i <= layers; i++)
            TensorAssert.Close(dump.Read($"hidden.{i}"), golden[$"hidden.{p}.{i}"], 1e-4, 1e-4, $"hidden.{i}");
        TensorAssert.Close(dump.Read("prenorm_last"), golden[$"prenorm_last.{p}"], 1e-4, 1e-4, "prenorm_last");
        for (int l = 0; l < layers; l++)
            TensorAssert.Close(dump.Read($"attn.{l}"), golden[$"attn.{p}.{l}"], 1e-5, 0, $"attn.{l}");
    }

    [Fact]
    public void Tokenize_prints_dajiahao_as_three_tokens_with_ids()
    {
        var (code, output, err) = Run("tokenize", "--model", Fixtures.Llama, "--text", "大家好");
        Assert.True(code == 0, err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("3 tokens", lines[0]);
        Assert.Equal(6, lines.Length); // the count, the header, its rule and the tokens
        Assert.Matches(@"^\s*0\s+128000\s+<\|begin_of_text\|>\s+<\|begin_of_text\|>\s+yes$", lines[3]);
        Assert.Matches(@"^\s*1\s+109429\s+大家\s+å¤§å®¶$", lines[4]);
        Assert.Matches(@"^\s*2\s+53901\s+好\s+å¥½$", lines[5]);
    }

    [Fact]
    public void Tokenize_jsonl_answers_each_line()
    {
        var (code, output, err) = RunWithInput("\"The apple is green.\"\n\n\"今天天氣真\"\n", "tokenize", "--model", Fixtures.Gemma, "--jsonl", "--no-special");
        Assert.True(code == 0, err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal([818, 17810, 563, 3826, 236761], first.RootElement.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal("▁apple", first.RootElement.GetProperty("tokens")[1].GetString());
        Assert.Equal(" apple", first.RootElement.GetProperty("text")[1].GetString());
        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal("今天", second.RootElement.GetProperty("tokens")[0].GetString());
    }

    [Fact]
    public void Tokenize_jsonl_names_a_bad_line()
    {
        var (code, _, err) = RunWithInput("\"ok\"\nnot json\n", "tokenize", "--model", Fixtures.Llama, "--jsonl");
        Assert.Equal(1, code);
        Assert.Contains("line 2", err);
    }

    [Fact]
    public void Dump_text_equals_dump_of_its_ids()
    {
        using var golden = new Golden(Fixtures.Gemma);
        using var scope = NewDisposeScope();
        var outPath = Path.Combine(Fixtures.TempDir(), "text.safetensors");
        var (code, _, err) = Run("dump", "--model", Fixtures.Gemma, "--text", "The apple is green. What color is the apple?", "--dtype", "float32", "--out", outPath);
        Assert.True(code == 0, err);
        using var dump = SafeTensorsFile.Open(outPath);
        TensorAssert.Identical(golden["input_ids.0"], dump.Read("input_ids"));
        TensorAssert.Close(dump.Read("logits")[-1], golden["logits_last.0"], 1e-4, 1e-4, "logits_last");
    }

    [Fact]
    public void Chat_renders_a_messages_file_and_its_ids()
    {
        var messages = Path.Combine(Fixtures.TempDir(), "messages.json");
        File.WriteAllText(messages, """[{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "The apple is green. What color is the apple?"}]""");
        var (code, output, err) = Run("chat", "--model", Fixtures.Gemma, "--messages", messages, "--add-generation-prompt", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("<bos><start_of_turn>user\nYou are a helpful assistant.\n\nThe apple is green. What color is the apple?<end_of_turn>\n<start_of_turn>model\n",
            doc.RootElement.GetProperty("text").GetString());
        var ids = doc.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToList();
        Assert.Equal(2, ids[0]);
        Assert.NotEqual(2, ids[1]);
        Assert.Equal([105, 4368, 107], ids.TakeLast(3));

        (code, output, _) = Run("chat", "--model", Fixtures.Gemma, "--messages", messages);
        Assert.Equal(0, code);
        Assert.StartsWith("<bos><start_of_turn>user\nYou are a helpful assistant.\n\nThe apple is green. What color is the apple?<end_of_turn>\n\n", output);
    }

    [Fact]
    public void Chat_problems_exit_1()
    {
        var messages = Path.Combine(Fixtures.TempDir(), "messages.json");
        File.WriteAllText(messages, """[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]""");
        var (code, _, err) = Run("chat", "--model", Fixtures.Gemma, "--messages", messages);
        Assert.Equal(1, code);
        Assert.Contains("alternate", err);
        (code, _, err) = Run("chat", "--model", Fixtures.Gemma, "--messages", "/no/messages.json");
        Assert.Equal(1, code);
        Assert.Contains("/no/messages.json", err);
    }

    [Fact]
    public void Generate_and_dump_work_from_ids_in_a_folder_without_a_tokenizer_and_say_there_is_no_text()
    {
        var folder = Fixtures.TempDir();
        foreach (var file in new[] { "config.json", "generation_config.json", "model.safetensors" })
            File.Copy(Path.Combine(Fixtures.Llama, file), Path.Combine(folder, file));
        using var golden = new Golden(Fixtures.Llama);
        var ids = Ids(golden["input_ids.0"]);
        var generated = golden["generated_ids.0"].data<long>().Select(x => (int)x).ToList();
        var (code, output, err) = Run("generate", "--model", folder, "--ids", ids, "--max-new-tokens", "8", "--dtype", "float32", "--greedy", "--json");
        Assert.True(code == 0, err);
        using (var doc = JsonDocument.Parse(output))
        {
            Assert.Equal(generated, doc.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()));
            Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("text").ValueKind);
        }
        (code, output, err) = Run("generate", "--model", folder, "--ids", ids, "--max-new-tokens", "8", "--dtype", "float32", "--greedy");
        Assert.True(code == 0, err);
        Assert.StartsWith(string.Join(",", generated), output);
        Assert.Contains("has no tokenizer.json", output);
        (code, _, err) = Run("dump", "--model", folder, "--ids", ids, "--out", Path.Combine(folder, "dump.safetensors"));
        Assert.True(code == 0, err);
        // Text needs the tokenizer: the error says which file is missing.
        (code, _, err) = Run("generate", "--model", folder, "--text", "hi", "--max-new-tokens", "1");
        Assert.NotEqual(0, code);
        Assert.Contains("no tokenizer.json", err);
    }

    [Fact]
    public void Generate_json_says_context_full_when_the_context_ran_out()
    {
        using var lens = LensModel.Load("tiny");
        var prompt = lens.Prompt(Enumerable.Repeat(lens.Prompt(" is", addSpecialTokens: false).Ids[0], lens.Config.MaxPositions - 3));
        var expected = lens.Generate(prompt, new NotebookLens.Generation.GenerationOptions { MaxNewTokens = 10 });
        Assert.Equal(NotebookLens.Generation.FinishReason.ContextFull, expected.FinishReason);

        var (code, output, err) = Run("generate", "--model", "tiny", "--ids", string.Join(",", prompt.Ids), "--max-new-tokens", "10", "--greedy", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(expected.NewIds, doc.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()));
        Assert.Equal("context_full", doc.RootElement.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void Generate_json_gives_the_greedy_continuation()
    {
        using var golden = new Golden(Fixtures.Llama);
        var ids = Ids(golden["input_ids.0"]);
        var (code, output, err) = Run("generate", "--model", Fixtures.Llama, "--ids", ids, "--max-new-tokens", "8", "--dtype", "float32", "--greedy", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var generated = golden["generated_ids.0"].data<long>().Select(x => (int)x).ToList();
        // Stops early only if the continuation hits an end token; the random fixture's does not.
        Assert.Equal(generated, doc.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()));
        Assert.Equal("length", doc.RootElement.GetProperty("finish_reason").GetString());
        Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("text").GetString()));
    }

    [Fact]
    public void Generate_streams_text_for_a_person_and_chats()
    {
        var (code, streamed, err) = Run("generate", "--model", Fixtures.Gemma, "--text", "The apple is", "--max-new-tokens", "6", "--dtype", "float32");
        Assert.True(code == 0, err);
        var (_, json, _) = Run("generate", "--model", Fixtures.Gemma, "--text", "The apple is", "--max-new-tokens", "6", "--dtype", "float32", "--json");
        using var doc = JsonDocument.Parse(json);
        Assert.Equal($"The apple is{doc.RootElement.GetProperty("text").GetString()}\n[6 new tokens; stopped: Length]\n", streamed);

        (code, json, err) = Run("generate", "--model", Fixtures.Gemma, "--text", "Hi", "--chat", "--system", "Be brief.", "--max-new-tokens", "3",
            "--temperature", "0.8", "--top-k", "20", "--top-p", "0.9", "--seed", "5", "--json");
        Assert.True(code == 0, err);
        using var sampled = JsonDocument.Parse(json);
        Assert.InRange(sampled.RootElement.GetProperty("ids").GetArrayLength(), 1, 3);
    }

    [Theory]
    [InlineData(new[] { "train-tiny" }, "Option '--out' is required")]
    [InlineData(new[] { "train-tiny", "--out", "x", "--steps", "0" }, "--steps")]
    [InlineData(new[] { "train-tiny", "--out", "x", "--recipe", "wide" }, "--recipe must be one of default, deep")]
    [InlineData(new[] { "generate", "--model", "x", "--text", "a", "--max-new-tokens", "2", "--greedy", "--temperature", "1" }, "--greedy cannot be combined")]
    [InlineData(new[] { "generate", "--model", "x", "--ids", "1", "--chat", "--max-new-tokens", "2" }, "--chat wraps --text")]
    [InlineData(new[] { "generate", "--model", "x", "--text", "a", "--max-new-tokens", "-3" }, "--max-new-tokens")]
    [InlineData(new[] { "generate", "--model", "x", "--text", "a", "--max-new-tokens", "2", "--top-k", "5" }, "--temperature")]
    [InlineData(new[] { "tokenize", "--model", "x" }, "either --text TEXT or --jsonl")]
    [InlineData(new[] { "dump", "--model", "x", "--ids", "1", "--text", "a", "--out", "o" }, "either --ids or --text")]
    [InlineData(new[] { "info", "--model", "x", "--jsn" }, "'--jsn'")]
    [InlineData(new[] { "dump", "--model", "x", "--ids", "1,abc", "--out", "o" }, "'abc' is not a token id")]
    [InlineData(new[] { "dump", "--model" }, "missing for option: '--model'")]
    [InlineData(new[] { "explode" }, "'explode'")]
    [InlineData(new[] { "info", "stray" }, "'stray'")]
    public void Usage_mistakes_exit_2_with_a_hint(string[] args, string message)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
    }

    [Fact]
    public void Help_lists_every_verb_with_its_options_spelled_out()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        var usages = output.Split('\n').Where(l => l.StartsWith("  ", StringComparison.Ordinal)).ToList();
        Assert.Contains(usages, u => u.TrimStart().StartsWith("refusal ", StringComparison.Ordinal));
        Assert.All(usages, u => Assert.DoesNotContain("{", u)); // a usage string left uninterpolated
    }

    [Fact]
    public void Input_problems_exit_1_with_the_reason()
    {
        var (code, _, err) = Run("info", "--model", "/no/such/folder");
        Assert.Equal(1, code);
        Assert.Contains("Model folder not found: /no/such/folder", err);

        (code, _, err) = Run("dump", "--model", Fixtures.Llama, "--ids", "128000,999999", "--out", Path.Combine(Fixtures.TempDir(), "x.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("999999", err);

        (code, _, err) = Run("info", "--model", Fixtures.Llama, "--dtype", "int4");
        Assert.Equal(1, code);
        Assert.Contains("int4", err);
    }

    [Fact]
    public void The_built_cli_runs_as_its_own_process()
    {
        var dll = typeof(CliApp).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { dll, "info", "--model", Fixtures.Llama, "--json" }) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(8_282_432, doc.RootElement.GetProperty("num_parameters").GetInt64());
    }
}
