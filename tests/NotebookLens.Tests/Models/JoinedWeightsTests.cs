using NotebookLens.Models;
using NotebookLens.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NotebookLens.Tests.Models;

/// <summary>Two layers' weights that lie one after the other taken as one (<see cref="Linear.Joined"/>): the gate and up projections of the MLP.</summary>
public sealed class JoinedWeightsTests
{
    public JoinedWeightsTests() => TorchRuntime.EnsureLoaded();

    static unsafe nint Address(Tensor t) => (nint)TensorMemory.Address(t);

    [Fact]
    public void Weights_one_after_the_other_join_into_one_view_and_no_others_do()
    {
        using var scope = NewDisposeScope();
        var storage = randn([24, 16]).to(ScalarType.BFloat16);
        Linear Rows(long start) => new(storage.narrow(0, start, 8), null);
        var (a, b, c) = (Rows(0), Rows(8), Rows(16));

        var joined = Linear.Joined(a, b)!;
        Assert.Equal(new long[] { 16, 16 }, joined.shape);
        Assert.Equal(Address(a.Weight), Address(joined)); // a view: no copy
        TensorAssert.Identical(storage.narrow(0, 0, 16), joined, "the joined weights");

        Assert.Null(Linear.Joined(b, a)); // the second before the first
        Assert.Null(Linear.Joined(a, c)); // a gap between them
        Assert.Null(Linear.Joined(a, new Linear(storage.narrow(0, 8, 8).clone(), null))); // memory of its own
        Assert.Null(Linear.Joined(a, b with { Bias = zeros(8, dtype: ScalarType.BFloat16) }));
        Assert.Null(Linear.Joined(new Linear(storage.narrow(1, 0, 8), null), new Linear(storage.narrow(1, 8, 8), null))); // strided
    }

    [Theory]
    [InlineData("silu", ScalarType.BFloat16)]
    [InlineData("gelu_pytorch_tanh", ScalarType.BFloat16)]
    [InlineData("silu", ScalarType.Float32)]
    public void A_prompts_MLP_through_the_joined_weights_is_the_MLP_of_two_products(string activation, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        const int rows = 100, hidden = 64, neurons = 256; // more rows than the kernel's few-row path takes
        Assert.True(rows > Bf16MatVec.Chunk);
        var weights = (randn([2 * neurons, hidden], generator: generator) * 0.1).to(dtype);
        var gate = new Linear(weights.narrow(0, 0, neurons), null);
        var up = new Linear(weights.narrow(0, neurons, neurons), null);
        var down = new Linear((randn([hidden, neurons], generator: generator) * 0.1).to(dtype), null);
        var x = randn([2, rows / 2, hidden], generator: generator).to(dtype);
        var apart = new GatedMlp(gate, up, down, activation);
        var joined = apart with { GateUp = Linear.Joined(gate, up) };
        Assert.NotNull(joined.GateUp);
        using var ctx = new ForwardContext { GlobalRope = new RopeTables(zeros(1), zeros(1)), GlobalMask = zeros(1) };
        var names = new LayerHookNames(0);

        var one = joined.Forward(x, ctx, 0, names);
        var two = apart.Forward(x, ctx, 0, names);
        Assert.Equal(two.shape, one.shape);
        // Independent of both: the formula in float64.
        var x64 = x.to(ScalarType.Float64);
        var g = F.linear(x64, gate.Weight.to(ScalarType.Float64));
        var act = activation == "silu" ? F.silu(g) : F.gelu(g, TorchSharp.Modules.GELU.Approximate.tanh);
        var exact = F.linear(act * F.linear(x64, up.Weight.to(ScalarType.Float64)), down.Weight.to(ScalarType.Float64));
        double tolerance = dtype == ScalarType.BFloat16 ? 0.05 : 1e-4;
        foreach (var (result, what) in new[] { (one, "joined"), (two, "apart") })
        {
            double error = (result.to(ScalarType.Float64) - exact).abs().max().item<double>();
            Assert.True(error <= tolerance * exact.abs().max().item<double>(), $"{what}: largest error {error}");
        }
        double apartError = (one.to(ScalarType.Float64) - two.to(ScalarType.Float64)).abs().max().item<double>();
        Assert.True(apartError <= tolerance / 4 * exact.abs().max().item<double>(), $"joined and apart differ by {apartError}");
    }

    [Fact]
    public void Weights_that_train_get_their_gradients_from_the_two_products()
    {
        // The embedded model's training loads its fp32 weights as views of the file (joined at load) and then asks for their gradients.
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var weights = randn([64, 32], generator: generator) * 0.1;
        var gate = new Linear(weights.narrow(0, 0, 32), null);
        var up = new Linear(weights.narrow(0, 32, 32), null);
        var down = new Linear(randn([32, 32], generator: generator) * 0.1, null);
        var mlp = new GatedMlp(gate, up, down, "silu") { GateUp = Linear.Joined(gate, up) };
        Assert.NotNull(mlp.GateUp);
        gate.Weight.requires_grad_(true); // as the trainer does, weight by weight
        up.Weight.requires_grad_(true);
        using var ctx = new ForwardContext { GlobalRope = new RopeTables(zeros(1), zeros(1)), GlobalMask = zeros(1) };
        var x = randn([100, 32], generator: generator);
        mlp.Forward(x, ctx, 0, new LayerHookNames(0)).sum().backward();

        // Independent: the same MLP's gradient from its formula.
        var w = weights.detach().clone().requires_grad_(true);
        F.linear(F.silu(F.linear(x, w.narrow(0, 0, 32))) * F.linear(x, w.narrow(0, 32, 32)), down.Weight).sum().backward();
        Assert.NotNull(gate.Weight.grad);
        Assert.NotNull(up.Weight.grad);
        double error = (cat([gate.Weight.grad!, up.Weight.grad!]) - w.grad!).abs().max().item<float>();
        Assert.True(error < 1e-4, $"the gate's and up's gradients differ from the formula's by {error}");
    }

    [Fact]
    public void A_checkpoints_gate_and_up_are_joined_where_it_stores_them_one_after_the_other()
    {
        using var model = LanguageModel.Load(Fixtures.Llama); // bf16 as stored: the weights are views of the mapped file
        Assert.All(model.Blocks, block =>
        {
            Assert.NotNull(block.Mlp.GateUp);
            Assert.Equal(Address(block.Mlp.Gate.Weight), Address(block.Mlp.GateUp!));
        });
        using var converted = LanguageModel.Load(Fixtures.Llama, new LoadOptions { DType = ScalarType.Float32 }); // copies, each its own
        Assert.All(converted.Blocks, block => Assert.Null(block.Mlp.GateUp));
    }
}
