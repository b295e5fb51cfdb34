namespace NotebookLens.Interactive.Commands;

// The analysis subcommands' command types (see ModelCommands.cs for how .NET Interactive binds them). Lists are one
// string each ("A|B|C"): .NET Interactive drops an option given twice, so a list cannot be a repeated option.

public sealed class ModelNeighborsCommand : ModelCommand
{
    public string? Word { get; set; }
    public string? K { get; set; }
    public string? Table { get; set; }
}

public sealed class ModelArithmeticCommand : ModelCommand
{
    public string? Expression { get; set; }
    public string? K { get; set; }
    public string? Table { get; set; }
}

public sealed class ModelHiddenCommand : ModelCommand
{
    public string? Text { get; set; }
}

public sealed class ModelSimilarityCommand : ModelCommand
{
    public string? Word { get; set; }
    public string? Sentence { get; set; }
    public string? Occurrence { get; set; }
}

public sealed class ModelLensCommand : ModelCommand
{
    public string? Text { get; set; }
    public string? K { get; set; }
    public bool NoFinalNorm { get; set; }
    public string? Target { get; set; }
    public bool Last { get; set; }
}

public sealed class ModelAttentionCommand : ModelCommand
{
    public string? Text { get; set; }
    public string? Layer { get; set; }
    public string? Head { get; set; }
    public bool Grid { get; set; }
    public string? From { get; set; }
    public string? To { get; set; }
    public string? K { get; set; }
}

public sealed class ModelNeuronsCommand : ModelCommand
{
    public string? Text { get; set; }
    public string? Layer { get; set; }
    public string? K { get; set; }
    public string? Neuron { get; set; }
    public string? Prompt { get; set; }
}

public sealed class ModelPcaCommand : ModelCommand
{
    public string? Layer { get; set; }
    public string? Text { get; set; }
    public string? Word { get; set; }
    public string? Components { get; set; }
}

public sealed class ModelTemperatureCommand : ModelCommand
{
    public string? Text { get; set; }
    public string? T { get; set; }
}

public sealed class ModelGenerateCommand : ModelCommand
{
    public string? Text { get; set; }
    public bool Chat { get; set; }
    public string? System { get; set; }
    public string? MaxNewTokens { get; set; }
    public string? Temperature { get; set; }
    public string? TopK { get; set; }
    public string? TopP { get; set; }
    public string? Seed { get; set; }
}

public sealed class ModelRefusalCommand : ModelCommand
{
    public string? Layer { get; set; }
    public string? NTrain { get; set; }
    public string? NVal { get; set; }
    public string? NTest { get; set; }
    public string? MaxNewTokens { get; set; }
    public string? PruneLayers { get; set; }
    public string? KlThreshold { get; set; }
    public string? SteeringThreshold { get; set; }
    public string? RefusalTokens { get; set; }
    public string? System { get; set; }
    public string? BatchSize { get; set; }
    public string? Harmful { get; set; }
    public string? Harmless { get; set; }
}

public sealed class ModelPatchscopeCommand : ModelCommand
{
    public string? Source { get; set; }
    public string? SourceToken { get; set; }
    public string? SourcePosition { get; set; }
    public string? Target { get; set; }
    public string? Placeholder { get; set; }
    public string? Layers { get; set; }
    public string? TargetLayer { get; set; }
    public string? MaxNewTokens { get; set; }
}
