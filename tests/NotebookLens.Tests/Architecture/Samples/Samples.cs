// Types for LayeringTests.The_reader_counts_uses_in_lambdas_and_not_names_in_strings: one use hidden in a lambda,
// one namespace only spelled in a string.

namespace NotebookLens.Tests.Architecture.Samples.Lower
{
    internal static class Target
    {
        public static int Value() => 42;
    }
}

namespace NotebookLens.Tests.Architecture.Samples.Upper
{
    internal static class UsesInLambda
    {
        public static Func<int> Later() => () => Lower.Target.Value();
    }
}

namespace NotebookLens.Tests.Architecture.Samples.Named
{
    internal static class OnlyNames
    {
        public static string Text() => "NotebookLens.Tests.Architecture.Samples.Lower.Target";
    }
}
