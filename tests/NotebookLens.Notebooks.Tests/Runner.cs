using System.Reflection;
using Xunit.Sdk;

namespace NotebookLens.Notebooks.Tests;

/// <summary>The two real hosts every notebook runs in.</summary>
public enum Runner
{
    /// <summary><c>dotnet tool run dotnet-repl -- --run NB --exit-after-run</c>, what build/run.sh uses.</summary>
    DotnetRepl,
    /// <summary><c>jupyter nbconvert --to notebook --execute</c> with the <c>.net-csharp</c> kernel (build/install-jupyter.sh).</summary>
    Jupyter,
}

/// <summary>Theory data: each runner once, so a check written as <c>[Theory, Runners]</c> reports each runner apart.</summary>
public sealed class RunnersAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => Enum.GetValues<Runner>().Select(r => new object[] { r });
}
