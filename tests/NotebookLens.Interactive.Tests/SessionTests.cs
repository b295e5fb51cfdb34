using NotebookLens.Interactive.Commands;
using NotebookLens.Models;

namespace NotebookLens.Interactive.Tests;

/// <summary>The session's state (models, current model): each test has its own kernel.</summary>
public sealed class SessionTests : IAsyncLifetime
{
    NotebookKernel _notebook = null!;

    public async Task InitializeAsync() => _notebook = await NotebookKernel.StartAsync();

    public Task DisposeAsync()
    {
        _notebook.Dispose();
        return Task.CompletedTask;
    }

    Task<Submission> Submit(string code) => _notebook.SubmitAsync(code);

    [Fact]
    public async Task A_loaded_model_is_a_csharp_variable_and_list_use_unload_manage_the_session()
    {
        var folder = Repo.Fixture("llama3-tiny");
        var load = (await Submit($"#!model load {folder} --dtype float32")).AssertSucceeded();
        Assert.Contains("as llama3_tiny", load.Html);
        Assert.Equal(ModelConfig.Load(folder).NumLayers, (await Submit("llama3_tiny.Config.NumLayers")).AssertSucceeded().ReturnValue);
        Assert.Equal("float32", (await Submit("NotebookLens.Models.DTypes.Name(llama3_tiny.Model.DType)")).AssertSucceeded().ReturnValue);

        (await Submit("#!model load tiny")).AssertSucceeded();
        var list = (await Submit("#!model list --as models")).AssertSucceeded();
        Assert.Contains("<td title=\"the current model\">*</td><td>tiny</td>", list.Html);
        Assert.Contains("<tr><td></td><td>llama3_tiny</td>", list.Html);
        Assert.Equal(2, (await Submit("models.Count")).AssertSucceeded().ReturnValue);

        (await Submit("#!model use llama3_tiny")).AssertSucceeded();
        var info = (await Submit("#!model info")).AssertSucceeded();
        Assert.Contains("llama3_tiny · llama", info.Html);

        var unload = (await Submit("#!model unload llama3_tiny")).AssertSucceeded();
        Assert.DoesNotContain("llama3_tiny", unload.Html);
        var gone = (await Submit("#!model info --model llama3_tiny")).AssertFailed();
        Assert.Contains("No model named \"llama3_tiny\" is loaded", gone);
        Assert.Contains("#!model load", gone);
    }

    [Fact]
    public async Task Commands_without_a_load_run_on_tiny_and_declare_it()
    {
        var cell = (await Submit("#!model info")).AssertSucceeded();
        Assert.Contains("tiny · llama", cell.Html);
        Assert.Equal(ModelConfig.Load(Loading.EmbeddedModel.Tiny.Folder()).HiddenSize, (await Submit("tiny.Config.HiddenSize")).AssertSucceeded().ReturnValue);
    }

    [Fact]
    public async Task A_command_naming_tiny_gemma_loads_it_once_as_tiny_gemma_beside_the_current_model()
    {
        (await Submit("#!model info")).AssertSucceeded();
        var gemma = (await Submit("#!model info --model tiny-gemma")).AssertSucceeded();
        Assert.Contains("tiny_gemma · gemma3_text", gemma.Html);
        Assert.Equal("gemma3_text", (await Submit("tiny_gemma.Config.ModelType")).AssertSucceeded().ReturnValue);
        // Named again, by either name, it is the loaded one; tiny, loaded first, stays the current model.
        (await Submit("#!model tokens \"天氣\" --model tiny-gemma")).AssertSucceeded();
        (await Submit("#!model tokens \"天氣\" --model tiny_gemma")).AssertSucceeded();
        (await Submit("#!model list --as models")).AssertSucceeded();
        Assert.Equal(2, (await Submit("models.Count")).AssertSucceeded().ReturnValue);
        Assert.Contains("tiny · llama", (await Submit("#!model info")).AssertSucceeded().Html);
        (await Submit("#!model use tiny-gemma")).AssertSucceeded();
        Assert.Contains("tiny_gemma · gemma3_text", (await Submit("#!model info")).AssertSucceeded().Html);
    }

    [Fact]
    public async Task The_variable_of_an_unloaded_model_says_it_was_unloaded_and_the_next_cell_works()
    {
        var folder = Repo.Fixture("llama3-tiny");
        (await Submit($"#!model load {folder} --name llama")).AssertSucceeded();
        (await Submit("llama.LogitLens(\"The apple\").Top.Length")).AssertSucceeded();
        (await Submit("#!model unload llama")).AssertSucceeded();

        var failure = (await Submit("llama.LogitLens(\"The apple\")")).AssertFailed();
        Assert.Contains("The model \"llama\" was unloaded", failure);
        Assert.Contains($"#!model load {folder} --name llama", failure);
        Assert.DoesNotContain("TorchSharp", failure);
        // Showing the variable is a use too: the cell fails with the same message.
        var shown = (await Submit("llama")).AssertFailed();
        Assert.Contains("The model \"llama\" was unloaded", shown);

        (await Submit($"#!model load {folder} --name llama")).AssertSucceeded();
        Assert.Equal(ModelConfig.Load(folder).NumLayers + 1, (await Submit("llama.LogitLens(\"The apple\").Top.Length")).AssertSucceeded().ReturnValue);
    }
}
