using NotebookLens.Loading;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Testing;

/// <summary>
/// A copy of a model folder whose embedding table (and so its tied output layer) has rows past its tokenizer's
/// vocabulary, as Gemma-3-4B's has (262,208 rows for 262,145 tokens). The extra rows are zero unless
/// <paramref name="fill"/> writes them: it gets the original table and the padding rows, indexed from 0 at
/// <see cref="FirstRow"/>. Deleted on dispose.
/// </summary>
public sealed class PaddedVocabulary : IDisposable
{
    public PaddedVocabulary(string folder, int extraRows, Action<Tensor, Tensor>? fill = null)
    {
        Folder = Directory.CreateTempSubdirectory("notebooklens-padded-").FullName;
        using (var scope = NewDisposeScope())
        using (var file = SafeTensorsFile.Open(Path.Combine(folder, "model.safetensors")))
        {
            var tensors = file.Tensors.Keys.ToDictionary(name => name, name => file.Read(name).clone());
            var embeddings = tensors["model.embed_tokens.weight"];
            FirstRow = (int)embeddings.shape[0];
            var padding = zeros([extraRows, embeddings.shape[1]], dtype: embeddings.dtype);
            fill?.Invoke(embeddings, padding);
            tensors["model.embed_tokens.weight"] = cat([embeddings, padding]);
            SafeTensorsWriter.Write(Path.Combine(Folder, "model.safetensors"), tensors);
        }
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        config["vocab_size"] = FirstRow + extraRows;
        File.WriteAllText(Path.Combine(Folder, "config.json"), config.ToJsonString());
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            File.Copy(Path.Combine(folder, name), Path.Combine(Folder, name));
    }

    /// <summary>The padded copy.</summary>
    public string Folder { get; }

    /// <summary>The first row past the original table: the tokenizer has no token for it or any row after it.</summary>
    public int FirstRow { get; }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
