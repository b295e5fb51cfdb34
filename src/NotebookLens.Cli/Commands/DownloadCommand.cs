using NotebookLens.Loading;

namespace NotebookLens.Cli.Commands;

/// <summary>
/// <c>download</c>: puts a hub model into the Hugging Face cache (or finds it there) and prints its snapshot
/// folder; with <c>--json</c> <c>{"repo_id", "revision", "commit", "folder"}</c>.
/// </summary>
public sealed class DownloadCommand : ICommand
{
    public string Name => "download";
    public string Usage => "download --model ORG/NAME[@REV] [--tokenizer-only] [--refresh] [--json]";
    public IReadOnlySet<string> Options { get; } = new HashSet<string> { "model" };
    public IReadOnlySet<string> Flags { get; } = new HashSet<string> { "tokenizer-only", "refresh", "json" };

    public int Run(CliArgs args, CliIO io)
    {
        var model = args.Require("model");
        if (!HubId.LooksLikeHubId(model)) throw new UsageException($"--model takes a Hugging Face hub id (org/name[@revision]); '{model}' is not one");
        var id = HubId.Parse(model);
        using var downloader = new HubDownloader(HubOptions.FromEnvironment() with { Refresh = args.Flag("refresh") });
        var snapshot = downloader.GetSnapshot(id, args.Flag("tokenizer-only") ? ModelParts.Tokenizer : ModelParts.All, new DownloadReporter(io.Error, io.Interactive));
        io.Output.WriteLine(args.Flag("json")
            ? CliJson.Serialize(new { repo_id = id.RepoId, revision = id.Revision, commit = snapshot.Commit, folder = snapshot.Folder })
            : snapshot.Folder);
        return 0;
    }
}
