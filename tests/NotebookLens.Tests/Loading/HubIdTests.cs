using NotebookLens.Loading;

namespace NotebookLens.Tests.Loading;

public class HubIdTests
{
    [Theory]
    [InlineData("meta-llama/Llama-3.2-3B-Instruct", "meta-llama/Llama-3.2-3B-Instruct", "main")]
    [InlineData("google/gemma-3-1b-it@v1.0", "google/gemma-3-1b-it", "v1.0")]
    [InlineData("org/name@refs/pr/12", "org/name", "refs/pr/12")]
    [InlineData("Org_1/a.b-c@4d2c3f1e0b9a8d7c6b5a49382716f5e4d3c2b1a0", "Org_1/a.b-c", "4d2c3f1e0b9a8d7c6b5a49382716f5e4d3c2b1a0")]
    public void Parses_a_repo_id_and_its_revision(string text, string repo, string revision)
    {
        var id = HubId.Parse(text);
        Assert.Equal((repo, revision), (id.RepoId, id.Revision));
        Assert.Equal(revision.Length == 40, id.IsCommit);
    }

    [Theory]
    [InlineData("org/na--me", "'--' and '..'")]
    [InlineData("org/name..x", "'--' and '..'")]
    [InlineData("-org/name", "start and end")]
    [InlineData("org/name.", "start and end")]
    [InlineData("org/na me", "letters, digits")]
    [InlineData("org/model.git", ".git")]
    [InlineData("org/name@", "not a revision")]
    [InlineData("org/name@../../x", "not a revision")]
    [InlineData("org/name@a//b", "not a revision")]
    [InlineData("org/name@br anch", "not a revision")]
    public void Rejects_what_the_hub_would_reject_with_the_reason(string text, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => HubId.Parse(text));
        Assert.Contains(reason, e.Message);
        Assert.Contains(text, e.Message);
    }

    [Fact]
    public void Names_are_at_most_96_characters()
    {
        HubId.Parse("org/" + new string('a', 96));
        Assert.Throws<ArgumentException>(() => HubId.Parse("org/" + new string('a', 97)));
    }

    [Theory]
    [InlineData("org/name", true)]
    [InlineData("org/name@main", true)]
    [InlineData("org/na--me", true)]
    [InlineData("tiny", false)]
    [InlineData("/abs/path", false)]
    [InlineData("./org/name", false)]
    [InlineData("../models/x", false)]
    [InlineData("~/models", false)]
    [InlineData("models/org/name", false)]
    [InlineData("models/", false)]
    [InlineData("C:\\models\\x", false)]
    public void Tells_hub_ids_from_paths_by_shape(string text, bool hubId) => Assert.Equal(hubId, HubId.LooksLikeHubId(text));

    [Fact]
    public void Prints_as_typed() =>
        Assert.Equal(("org/name", "org/name@v2"), (HubId.Parse("org/name@main").ToString(), HubId.Parse("org/name@v2").ToString()));
}
