using System.CommandLine;
using NotebookLens.Loading;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>download</c>: puts a hub model into the Hugging Face cache (or finds it there) and prints its snapshot
/// folder; with <c>--json</c> <c>{"repo_id", "revision", "commit", "folder"}</c>.
/// </summary>
public sealed class DownloadCommand : Verb
{
    readonly Option<string> _model;
    readonly Option<bool> _tokenizerOnly, _refresh, _json;

    public DownloadCommand(CliIO io) : base(io, "download",
        "Downloads a model from the Hugging Face hub into its cache (or finds it there) and prints the folder; then every verb finds it there, even offline.",
        "download --model meta-llama/Llama-3.2-1B-Instruct", "download --model google/gemma-3-1b-it --tokenizer-only")
    {
        _model = Declare(CliOptions.Value("--model", "ORG/NAME[@REV]",
            "The model's hub id, such as meta-llama/Llama-3.2-1B-Instruct; @REV picks a branch, tag or commit (default: main).",
            id => HubId.LooksLikeHubId(id) ? id : throw new UsageException($"--model takes a Hugging Face hub id (org/name[@revision]); '{id}' is not one")).Required());
        _tokenizerOnly = Declare(CliOptions.Flag("--tokenizer-only", "Only the tokenizer and config files (small), not the weights."));
        _refresh = Declare(CliOptions.Flag("--refresh", "Ask the hub for the newest files even when the cache has the model."));
        _json = Declare(CliOptions.Json("{\"repo_id\", \"revision\", \"commit\", \"folder\"}"));
    }

    protected override int Run(ParseResult args, CliIO io)
    {
        var model = args.GetValue(_model)!;
        var id = HubId.Parse(model);
        using var downloader = new HubDownloader(HubOptions.FromEnvironment() with { Refresh = args.GetValue(_refresh) });
        var snapshot = downloader.GetSnapshot(id, args.GetValue(_tokenizerOnly) ? ModelParts.Tokenizer : ModelParts.All, new DownloadReporter(io.Error, io.Interactive));
        io.Output.WriteLine(args.GetValue(_json)
            ? CliJson.Serialize(new { repo_id = id.RepoId, revision = id.Revision, commit = snapshot.Commit, folder = snapshot.Folder })
            : snapshot.Folder);
        return 0;
    }
}
