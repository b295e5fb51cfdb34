using System.Text.Json.Nodes;
using CsCheck;
using NotebookLens.Tokenization;

namespace NotebookLens.Tests.Robustness;

/// <summary>
/// Generated tokenizer folders: a Llama-3-style and a Gemma-style tokenizer.json (small vocabularies) and a
/// tokenizer_config.json, each with random structural edits; what loads then encodes and decodes random text.
/// </summary>
public class TokenizerFuzzTests
{
    static readonly string TinyFolder = Path.Combine(Fixtures.Root, "..", "..", "src", "NotebookLens", "Models", "Tiny");

    /// <summary>tiny's tokenizer.json cut to its byte alphabet and the merges among the first 400 ids (fast to load).</summary>
    static readonly string LlamaStyle = Shrunk(File.ReadAllText(Path.Combine(TinyFolder, "tokenizer.json")));

    /// <summary>A Gemma-style tokenizer.json: ▁ for spaces, byte fallback (every &lt;0xNN&gt; token), a decoder sequence.</summary>
    static readonly string GemmaStyle = WithByteTokens("""
        {"version":"1.0","added_tokens":[{"id":0,"content":"<pad>","special":true},{"id":2,"content":"<bos>","special":true},
         {"id":5,"content":"<start_of_turn>","special":true,"normalized":false}],
         "normalizer":{"type":"Replace","pattern":{"String":" "},"content":"▁"},
         "pre_tokenizer":{"type":"Split","pattern":{"String":" "},"behavior":"MergedWithPrevious","invert":false},
         "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<bos>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
           "pair":[],"special_tokens":{"<bos>":{"id":"<bos>","ids":[2],"tokens":["<bos>"]}}},
         "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
         "model":{"type":"BPE","byte_fallback":true,"fuse_unk":true,"unk_token":"<unk>","ignore_merges":false,
           "vocab":{"<pad>":0,"<unk>":1,"<bos>":2,"▁":3,"a":4,"<start_of_turn>":5,"b":6,"▁a":7,"ab":8},
           "merges":[["▁","a"],["a","b"]]}}
        """);

    static string WithByteTokens(string json)
    {
        var root = JsonNode.Parse(json)!;
        var vocab = root["model"]!["vocab"]!.AsObject();
        int next = vocab.Count;
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = next++;
        return root.ToJsonString();
    }

    static readonly string Config = File.ReadAllText(Path.Combine(TinyFolder, "tokenizer_config.json"));

    sealed record Case(bool Gemma, JsonMutation[] Tokenizer, JsonMutation[] Config, string[] Texts, int[] Ids)
    {
        public override string ToString() =>
            $"{(Gemma ? "gemma" : "llama")} tokenizer {string.Join("; ", Tokenizer.AsEnumerable())} config {string.Join("; ", Config.AsEnumerable())} texts {string.Join("|", Texts)} ids {string.Join(",", Ids)}";
    }

    static readonly Gen<Case> Cases = Gen.Select(
        Gen.Bool,
        JsonMutation.Any.Array[0, 3],
        Gen.Frequency((3, Gen.Const(Array.Empty<JsonMutation>())), (1, JsonMutation.Any.Array[1, 2])),
        Gen.String[Gen.Char["ab ▁<|>李\n\ud800\udc00\ud800x"], 0, 12].Array[1, 3],
        Gen.Int[-2, 500].Array[0, 6],
        (gemma, tokenizer, config, texts, ids) => new Case(gemma, tokenizer, config, texts, ids));

    [Fact]
    public void Any_tokenizer_folder_loads_and_works_or_fails_with_an_error_naming_the_folder()
    {
        var folder = Fixtures.TempDir();
        Fuzz.Check(Cases, c =>
        {
            File.WriteAllText(Path.Combine(folder, "tokenizer.json"), JsonMutation.Apply(c.Gemma ? GemmaStyle : LlamaStyle, c.Tokenizer));
            File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), JsonMutation.Apply(Config, c.Config));
            var tokenizer = HfTokenizer.Load(folder);
            foreach (var text in c.Texts)
            {
                IReadOnlyList<int> ids;
                // A vocabulary without a character, an unk_token or byte fallback cannot encode it: documented, and
                // said when encoding (the file itself is valid).
                try { ids = tokenizer.Encode(text); }
                catch (InvalidDataException e) when (e.Message.StartsWith("The tokenizer cannot represent", StringComparison.Ordinal)) { continue; }
                tokenizer.Decode(ids, skipSpecialTokens: false);
            }
            try { tokenizer.Decode(c.Ids, skipSpecialTokens: true); }
            catch (ArgumentOutOfRangeException) when (c.Ids.Any(id => tokenizer.IdToToken(id) is null)) { }
        }, folder, [typeof(InvalidDataException), typeof(NotSupportedException)], c => c.ToString());
    }

    static string Shrunk(string json)
    {
        var root = JsonNode.Parse(json)!;
        var model = root["model"]!;
        var vocab = model["vocab"]!.AsObject();
        var kept = vocab.Where(kv => kv.Value!.GetValue<int>() < 400).Select(kv => kv.Key).ToHashSet();
        model["vocab"] = new JsonObject(kept.Select(k => KeyValuePair.Create(k, (JsonNode?)JsonValue.Create(vocab[k]!.GetValue<int>()))));
        model["merges"] = new JsonArray([.. model["merges"]!.AsArray()
            .Select(m => m is JsonArray pair ? (pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>()) : Split(m!.GetValue<string>()))
            .Where(p => kept.Contains(p.Item1) && kept.Contains(p.Item2) && kept.Contains(p.Item1 + p.Item2))
            .Select(p => (JsonNode)new JsonArray(p.Item1, p.Item2))]);
        return root.ToJsonString();
    }

    static (string, string) Split(string merge) => (merge[..merge.IndexOf(' ')], merge[(merge.IndexOf(' ') + 1)..]);
}
