using CsCheck;
using NotebookLens.Loading;

namespace NotebookLens.Tests.Robustness;

/// <summary>
/// Generated hub answers: repository listings and model.safetensors.index.json files with random structural edits and
/// hostile file names. Each is read or refused as malformed, and no name it gives leads outside the model's folder.
/// </summary>
public class HubAnswerFuzzTests
{
    const string Listing = """
        {"_id":"x","id":"meta-llama/Llama-3.2-1B","sha":"4e20de362430cd3b72f300e6b0f18e50e7166e08","private":false,"gated":"manual",
         "siblings":[{"rfilename":".gitattributes"},{"rfilename":"config.json"},{"rfilename":"model.safetensors"},
           {"rfilename":"original/params.json"},{"rfilename":"tokenizer.json"}],"cardData":{"license":"llama3.2"}}
        """;

    const string Index = """
        {"metadata":{"total_size":1234},"weight_map":{"lm_head.weight":"model-00002-of-00002.safetensors",
         "model.embed_tokens.weight":"model-00001-of-00002.safetensors","model.norm.weight":"model-00002-of-00002.safetensors"}}
        """;

    static readonly Gen<string> HostileName = Gen.OneOf(
        "../../etc/passwd", "/etc/passwd", "a/../../b", "..", ".", "", "a//b", "a\\b", "C:\\x", "ok/file.json", "\u0000", "a/./b", "~/x");

    static readonly Gen<JsonMutation> Mutation = Gen.Frequency(
        (3, JsonMutation.Any),
        (1, Gen.Select(Gen.Int[0, 1 << 20].Array[2, 4], HostileName, (path, name) => new JsonMutation(path, Fuzz.Text(name), 0))));

    [Fact]
    public void Any_repository_listing_is_read_or_refused_and_its_names_stay_in_the_cache()
    {
        var snapshot = Fixtures.TempDir();
        Fuzz.Check(Mutation.Array[0, 4], mutations =>
        {
            var body = System.Text.Encoding.UTF8.GetBytes(JsonMutation.Apply(Listing, mutations));
            try
            {
                foreach (var file in HubRepoInfo.Parse(body).Files) InsideOrRefused(snapshot, file);
            }
            catch (InvalidDataException) { }
        }, null, [], m => string.Join("; ", m.AsEnumerable()));
    }

    [Fact]
    public void Any_safetensors_index_is_read_or_refused_naming_the_file_and_its_shards_stay_in_the_cache()
    {
        var snapshot = Fixtures.TempDir();
        var path = Path.Combine(snapshot, ModelFiles.Index);
        Fuzz.Check(Mutation.Array[0, 4], mutations =>
        {
            File.WriteAllText(path, JsonMutation.Apply(Index, mutations));
            foreach (var shard in ModelFiles.Shards(path)) InsideOrRefused(snapshot, shard);
        }, path, [typeof(InvalidDataException)], m => string.Join("; ", m.AsEnumerable()));
    }

    static void InsideOrRefused(string folder, string file)
    {
        try { Assert.StartsWith(folder + Path.DirectorySeparatorChar, HubCache.Within(folder, file)); }
        catch (HubException e) when (e.Kind == HubErrorKind.UnsafeFileName) { }
    }
}
