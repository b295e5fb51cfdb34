using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NotebookLens.Tests.Models;

/// <summary>A long prompt's MLP taken in blocks of rows (<see cref="GatedMlp.BlockElements"/>) against the same MLP whole.</summary>
public sealed class MlpBlockTests
{
    public MlpBlockTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData("silu")] // Llama
    [InlineData("gelu_pytorch_tanh")] // Gemma
    public void A_long_prompts_rows_in_blocks_are_the_mlp_of_all_rows_at_once(string activation)
    {
        using var scope = NewDisposeScope();
        // 16,384 neurons: blocks of 256 rows; two prompts of 300 tokens make three blocks, the last shorter.
        const int hidden = 64, neurons = 16384, rows = 600;
        Assert.Equal(256, GatedMlp.BlockElements / neurons);
        var random = new Generator(11);
        var gate = randn([neurons, hidden], generator: random) * 0.2;
        var up = randn([neurons, hidden], generator: random) * 0.2;
        var down = randn([hidden, neurons], generator: random) * 0.01;
        var mlp = new GatedMlp(new Linear(gate, null), new Linear(up, null), new Linear(down, null), activation);
        var x = randn([2, rows / 2, hidden], generator: random);
        var names = new LayerHookNames(0);

        using var plain = Context(HookSet.Empty);
        var blocks = mlp.Forward(x, plain, 0, names);
        // A hook on the neurons sees every row at once: the MLP then takes them in one block.
        using var hooked = Context(new HookSet().Add(names.MlpPost, (_, _) => null));
        var whole = mlp.Forward(x, hooked, 0, names);

        TensorAssert.Identical(whole, blocks, "the MLP's output");
        // Against the formula in float64: down(act(x gateᵀ) * x upᵀ).
        var x64 = x.to(ScalarType.Float64);
        var pre = x64.matmul(gate.to(ScalarType.Float64).t());
        var act = activation == "silu" ? F.silu(pre) : F.gelu(pre, TorchSharp.Modules.GELU.Approximate.tanh);
        var expected = (act * x64.matmul(up.to(ScalarType.Float64).t())).matmul(down.to(ScalarType.Float64).t());
        TensorAssert.Close(blocks.to(ScalarType.Float64), expected, atol: 1e-4, rtol: 1e-4, what: "against float64");
    }

    static ForwardContext Context(HookSet hooks) => new()
    {
        GlobalRope = new RopeTables(zeros(1), zeros(1)), // the MLP reads neither these nor the mask
        GlobalMask = zeros(1),
        Hooks = hooks,
    };
}
