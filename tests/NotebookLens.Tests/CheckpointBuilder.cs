using System.Text.Json.Nodes;
using NotebookLens.Loading;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLens.Tests;

/// <summary>Builds variants of a fixture checkpoint in a temporary folder: edited config, renamed, added or dropped tensors, shards.</summary>
public sealed class CheckpointBuilder : IDisposable
{
    readonly DisposeScope _scope = NewDisposeScope();

    public CheckpointBuilder(string fixture)
    {
        Config = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture, "config.json")))!.AsObject();
        using var file = SafeTensorsFile.Open(Path.Combine(fixture, "model.safetensors"));
        foreach (var name in file.Tensors.Keys) Tensors[name] = file.Read(name).clone();
    }

    public JsonObject Config { get; set; }

    public Dictionary<string, Tensor> Tensors { get; } = new(StringComparer.Ordinal);

    public CheckpointBuilder Rename(Func<string, string> rename)
    {
        var renamed = Tensors.ToDictionary(kv => rename(kv.Key), kv => kv.Value);
        Tensors.Clear();
        foreach (var kv in renamed) Tensors[kv.Key] = kv.Value;
        return this;
    }

    /// <summary>Writes config.json and model.safetensors (or <paramref name="shards"/> shards with an index).</summary>
    public string Write(int shards = 1)
    {
        var dir = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(dir, "config.json"), Config.ToJsonString());
        if (shards == 1)
        {
            SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), Tensors);
            return dir;
        }
        var names = Tensors.Keys.Order().ToList();
        var map = new JsonObject();
        for (int s = 0; s < shards; s++)
        {
            var file = $"model-{s + 1:D5}-of-{shards:D5}.safetensors";
            var part = names.Where((_, i) => i % shards == s).ToList();
            SafeTensorsWriter.Write(Path.Combine(dir, file), part.Select(n => KeyValuePair.Create(n, Tensors[n])));
            foreach (var n in part) map[n] = file;
        }
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 0 }, ["weight_map"] = map };
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), index.ToJsonString());
        return dir;
    }

    public void Dispose() => _scope.Dispose();
}
