using NotebookLens.Generation;
using NotebookLens.Runtime;
using static TorchSharp.torch;

namespace NotebookLens.Tests.Generation;

/// <summary>Greedy decoding's argmax of bf16 logits, held to libtorch's argmax of the same rows.</summary>
public class GreedyChoiceTests
{
    public GreedyChoiceTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(2, 8)]
    [InlineData(5, 9)]
    [InlineData(4, 31)]
    [InlineData(8, 128256)] // a decode step of eight sequences of Llama 3's vocabulary
    public void Chooses_what_libtorchs_argmax_chooses(int rows, int vocab)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator((ulong)(rows * 1000 + vocab));
        // Rounded to bf16, many values tie (randn × 3 has few distinct bf16 values near the top): the first must win.
        var logits = (randn(rows, vocab, generator: generator) * 3).to(ScalarType.BFloat16);
        Assert.Equal(logits.argmax(1).data<long>().ToArray(), GreedyChoice.Argmax(logits));
    }

    [Fact]
    public void Takes_the_first_of_equal_maxima_the_first_nan_and_zero_for_a_row_of_minus_infinity()
    {
        using var scope = NewDisposeScope();
        const int vocab = 37;
        var values = new float[6, vocab];
        for (int r = 0; r < 6; r++)
            for (int j = 0; j < vocab; j++) values[r, j] = -1 - j % 5;
        values[0, 3] = values[0, 20] = values[0, 36] = 4; // ties: 3
        values[1, 9] = -0f; values[1, 30] = 0f; // the maximum is zero, -0 first: 9
        for (int j = 0; j < vocab; j++) values[2, j] = float.NegativeInfinity; // 0
        values[3, 5] = 100; values[3, 33] = float.NaN; values[3, 35] = float.NaN; // a NaN wins, the first: 33
        values[4, 36] = 2; // in the tail past the last whole vector: 36
        values[5, 12] = float.NaN; values[5, 2] = float.PositiveInfinity; // 12
        var logits = tensor(values).to(ScalarType.BFloat16);
        var expected = logits.argmax(1).data<long>().ToArray();
        Assert.Equal(new long[] { 3, 9, 0, 33, 36, 12 }, expected); // libtorch's own choices, as described
        Assert.Equal(expected, GreedyChoice.Argmax(logits));
    }

    [Fact]
    public void Reads_rows_of_a_view_and_leaves_other_dtypes_to_libtorch()
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(5);
        var wide = (randn(4, 1, 300, generator: generator) * 3).to(ScalarType.BFloat16);
        var step = wide.select(1, 0).narrow(1, 10, 250); // rows 300 elements apart, starting 10 in
        Assert.Equal(step.argmax(1).data<long>().ToArray(), GreedyChoice.Argmax(step));
        var fp32 = randn(3, 50, generator: generator);
        Assert.Equal(fp32.argmax(1).data<long>().ToArray(), GreedyChoice.Argmax(fp32));
    }
}
