using NotebookLens.Models;

/// <summary>Floating-point operations (multiply-adds times two) of the passes the benchmarks time: the numerators of their rates.</summary>
static class FlopCount
{
    /// <summary>
    /// <paramref name="rows"/> rows of <paramref name="tokens"/> tokens through blocks <paramref name="fromLayer"/> .. L−1:
    /// every linear layer per token, attention's scores and weighted sums over the causal triangle (after
    /// <paramref name="cached"/> positions already in a KV cache), and the output layer at <paramref name="logitPositions"/>
    /// positions of each row.
    /// </summary>
    public static double Pass(ModelConfig c, long rows, long tokens, int fromLayer, long logitPositions, long cached = 0)
    {
        int layers = c.NumLayers - fromLayer;
        double linear = 2.0 * rows * tokens * layers * LinearPerToken(c);
        double attention = layers * 2.0 * 2 * QueryWidth(c) * rows * (tokens * cached + tokens * (tokens + 1) / 2.0);
        return linear + attention + Head(c, rows * logitPositions);
    }

    /// <summary>One cached decode step: one new token per row attending to <paramref name="positions"/> positions, logits for it.</summary>
    public static double Step(ModelConfig c, long rows, long positions) =>
        2.0 * rows * c.NumLayers * LinearPerToken(c) + c.NumLayers * 2.0 * 2 * QueryWidth(c) * rows * positions + Head(c, rows);

    static double QueryWidth(ModelConfig c) => (double)c.NumHeads * c.HeadDim;

    /// <summary>Multiply-adds of one block's projections for one token: q, k, v, o, gate, up, down.</summary>
    static double LinearPerToken(ModelConfig c)
    {
        double q = QueryWidth(c), kv = (double)c.NumKeyValueHeads * c.HeadDim;
        return c.HiddenSize * (q + 2 * kv) + q * c.HiddenSize + 3.0 * c.HiddenSize * c.IntermediateSize;
    }

    static double Head(ModelConfig c, long positions) => 2.0 * positions * c.VocabSize * c.HiddenSize;
}
