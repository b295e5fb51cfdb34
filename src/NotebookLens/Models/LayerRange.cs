namespace NotebookLens.Models;

/// <summary>The one check, and the one wording, for a layer index given to the engine or an analysis.</summary>
internal static class LayerRange
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for <paramref name="paramName"/> unless 0 ≤ layer &lt; layers.</summary>
    /// <param name="context">Put before the message, e.g. which hook point the layer came from.</param>
    public static void Check(int layer, int layers, string paramName = "layer", string context = "")
    {
        if (layer < 0 || layer >= layers)
            throw new ArgumentOutOfRangeException(paramName, context + Message(layer, layers));
    }

    /// <summary>"Layer 7 is out of range; this model has layers 0 .. 5."</summary>
    public static string Message(int layer, int layers) => $"Layer {layer} is out of range; this model has layers 0 .. {layers - 1}.";
}
