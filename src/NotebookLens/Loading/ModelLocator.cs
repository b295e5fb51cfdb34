namespace NotebookLens.Loading;

/// <summary>
/// Turns what a person passes as a model into a local model folder: a folder path as it is, or a Hugging Face hub
/// id (<c>org/name[@revision]</c>) through the shared Hugging Face cache, downloading what is missing there first, or
/// the name of a model inside NotebookLens (<c>tiny</c>, <see cref="EmbeddedModel"/>). A folder that exists wins over a name spelled the same way.
/// </summary>
public static class ModelLocator
{
    /// <summary>The folder to load <paramref name="model"/> from, with at least what <paramref name="parts"/> needs.</summary>
    /// <param name="hub">Cache and hub settings; null reads them from the environment as huggingface_hub does.</param>
    /// <param name="progress">Told how a download goes (nothing is reported for a cached model).</param>
    public static async Task<string> ResolveAsync(string model, ModelParts parts = ModelParts.All, HubOptions? hub = null,
        IProgress<DownloadProgress>? progress = null, CancellationToken cancel = default)
    {
        if (Directory.Exists(model)) return model;
        if (EmbeddedModel.Find(model) is { } embedded) return embedded.Folder();
        if (!HubId.LooksLikeHubId(model))
            throw new DirectoryNotFoundException(
                $"Model folder not found: {model}. Pass a model folder, a Hugging Face hub id: org/name[@revision], e.g. meta-llama/Llama-3.2-1B-Instruct, or {string.Join(" or ", EmbeddedModel.All.Select(m => m.Name))} for a model inside NotebookLens.");
        var id = HubId.Parse(model);
        using var downloader = new HubDownloader(hub ?? HubOptions.FromEnvironment());
        try
        {
            return (await downloader.GetSnapshotAsync(id, parts, progress, cancel).ConfigureAwait(false)).Folder;
        }
        catch (HubException e) when (e.Kind == HubErrorKind.RepoNotFound)
        {
            throw new HubException(e.Kind, $"{e.Message} (There is no folder {Path.GetFullPath(model)} either.)", e);
        }
    }

    /// <inheritdoc cref="ResolveAsync"/>
    public static string Resolve(string model, ModelParts parts = ModelParts.All, HubOptions? hub = null,
        IProgress<DownloadProgress>? progress = null, CancellationToken cancel = default) =>
        ResolveAsync(model, parts, hub, progress, cancel).GetAwaiter().GetResult();
}
