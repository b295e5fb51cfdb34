using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Directives;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookLens.Interactive.Commands;
using NotebookLens.Loading;
using NotebookLens.Models;
using NotebookLens.Runtime;

namespace NotebookLens.Interactive;

/// <summary>
/// The <c>#!model</c> directive: one root with the shared options (<c>--model</c>, <c>--as</c>) and one subcommand
/// per action, each bound to its own command type the way .NET Interactive's <c>#!connect</c> is built. This class
/// is the plumbing every subcommand shares: model lookup, a TorchSharp dispose scope, cancellation, output, the
/// <c>--as</c> variable and errors; <see cref="ModelSubcommands"/> has what each subcommand does.
/// </summary>
sealed class ModelMagic
{
    public const string DirectiveName = "#!model";
    const string CSharpKernelName = "csharp";

    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Kernel, ModelMagic> Added = new();

    readonly Kernel _kernel;
    readonly KernelActionDirective _root;
    readonly List<Usage> _usages = [];

    ModelMagic(Kernel kernel, ModelRegistry registry)
    {
        _kernel = kernel;
        Registry = registry;
        _root = new KernelActionDirective(DirectiveName,
            "Load language models and look inside them (NotebookLens). Run #!model alone for the list of subcommands.")
        {
            Parameters =
            {
                new KernelDirectiveParameter("--model", "The loaded model to use, or tiny / tiny-gemma (default: the current one, else tiny)")
                    .AddCompletions(() => Registry.Models.Select(m => m.Name)),
                new KernelDirectiveParameter("--as", "Also put the result into this C# variable"),
            },
        };
    }

    /// <summary>The models <c>#!model</c> works on: <see cref="ModelRegistry.Shared"/> in a notebook, so C# code sees the same ones.</summary>
    public ModelRegistry Registry { get; }

    /// <summary>One line of the help table: how a subcommand is written and what it does.</summary>
    public sealed record Usage(string Name, string Syntax, string Description);

    /// <summary>Adds <c>#!model</c> to <paramref name="kernel"/> once (a host may load an extension twice).</summary>
    public static ModelMagic AddTo(Kernel kernel, ModelRegistry registry)
    {
        lock (Added)
        {
            if (Added.TryGetValue(kernel, out var existing)) return existing;
            var magic = new ModelMagic(kernel, registry);
            ModelSubcommands.AddAll(magic);
            // The root alone (or followed by a word that is no subcommand) shows the help.
            kernel.AddDirective(magic._root, (command, context) => magic.ShowHelpAsync(command, context));
            Added.Add(kernel, magic);
            return magic;
        }
    }

    /// <summary>Adds a subcommand whose work is synchronous, on a loaded model, inside a dispose scope.</summary>
    public void AddAnalysis<T>(Usage usage, KernelDirectiveParameter[] parameters, Func<T, LensModel, CancellationToken, Output> work)
        where T : ModelCommand =>
        Add<T>(usage, parameters, async (command, context) =>
        {
            var model = EmbeddedToLoad(command.Model) is { } embedded
                ? await LoadOnFirstUseAsync(context, embedded)
                : Registry.Get(command.Model);
            return await InDisposeScope(() => work(command, model, context.CancellationToken), keep: command.As is not null, context.CancellationToken);
        });

    /// <summary>
    /// Without a load, commands run on tiny, and <c>--model tiny-gemma</c> on the other embedded model, each loaded on
    /// first use under its variable name (<c>tiny_gemma</c>). Loaded here rather than by the registry's <c>Get</c>, so
    /// that it becomes a C# variable like any loaded model. Null: the model is loaded (or not an embedded one).
    /// </summary>
    EmbeddedModel? EmbeddedToLoad(string? name) =>
        EmbeddedModel.Find(name ?? Registry.Current ?? EmbeddedModel.Tiny.Name) is { } embedded
        && Registry.Models.All(m => m.Name != LensModel.DefaultName(embedded.Name)) ? embedded : null;

    /// <summary>Loads an embedded model that a command names; the current model stays current (a load would make it the new one).</summary>
    async Task<LensModel> LoadOnFirstUseAsync(KernelInvocationContext context, EmbeddedModel embedded)
    {
        var current = Registry.Current;
        var model = await LoadAsync(context, embedded.Name, null, LoadOptions.Default, null);
        if (current is not null) Registry.Use(current);
        return model;
    }

    /// <summary>Adds a subcommand; <paramref name="run"/> gets the kernel's context (load, list, use, unload need no current model).</summary>
    public void Add<T>(Usage usage, KernelDirectiveParameter[] parameters, Func<T, KernelInvocationContext, Task<Output>> run)
        where T : ModelCommand
    {
        var directive = new KernelActionDirective(usage.Name, $"{usage.Description} Usage: #!model {usage.Syntax}")
        {
            KernelCommandType = typeof(T),
        };
        foreach (var parameter in parameters) directive.Parameters.Add(parameter);
        // Parented before it is registered, so the kernel lists it under #!model and not as a directive of its own.
        _root.Subcommands.Add(directive);
        _usages.Add(usage);
        _kernel.AddDirective<T>(directive, (command, context) => InvokeAsync(command, context, run));
    }

    /// <summary>A completion source listing the loaded models' names.</summary>
    public KernelDirectiveParameter WithModelNames(KernelDirectiveParameter parameter) =>
        parameter.AddCompletions(() => Registry.Models.Select(m => m.Name));

    async Task InvokeAsync<T>(T command, KernelInvocationContext context, Func<T, KernelInvocationContext, Task<Output>> run)
        where T : ModelCommand
    {
        try
        {
            if (command.Parent is SubmitCode cell) DirectiveLines.Check(cell.Code, _root);
            if (command.As is { } variable) CSharpNames.Check(variable, "the --as variable", "--as result");
            if (RemoteKernels.RunsOn(command, _kernel) is { } remote)
            {
                await remote.ForwardAsync(command, context);
                return;
            }
            var output = await run(command, context);
            Show(context, output);
            if (command.As is { } name) await SetVariableAsync(context, name, output.Value);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            context.Fail(command, message: "Cancelled.");
        }
        catch (LensException e)
        {
            context.Fail(command, message: $"{e.Problem} {Remedy(e)}".TrimEnd());
        }
        catch (RemoteFailure e)
        {
            context.Fail(command, message: e.Message);
        }
        catch (Exception e) when (e is MagicException or IOException or ArgumentException or NotSupportedException or UnauthorizedAccessException)
        {
            // Errors that come from what the user asked for: the message is the whole story (what is wrong, what to
            // do); a stack trace would bury it. Anything else is a bug and keeps its stack trace.
            context.Fail(command, message: e.Message);
        }
    }

    /// <summary>
    /// One display with the HTML view and its plain-text twin (for front ends without HTML). Strings published as
    /// formatted values, never <c>HtmlString</c>: Microsoft.AspNetCore.Html.Abstractions is not in every host.
    /// </summary>
    static void Show(KernelInvocationContext context, Output output)
    {
        var html = NotebookViews.Output.Render(output.View);
        context.Publish(new DisplayedValueProduced(html, context.Command,
            [new FormattedValue(HtmlFormatter.MimeType, html), new FormattedValue(PlainTextFormatter.MimeType, output.View.Text)]));
    }

    /// <summary>The core words remedies in its API's terms; here they are said with #!model's subcommands and options.</summary>
    static string Remedy(LensException e) => (e.Kind, e.Setting) switch
    {
        (LensErrorKind.NotFound, "model") => "Load it first (#!model load FOLDER_OR_HUB_ID --name NAME) or pick a loaded one with --model NAME; #!model list shows them.",
        (_, "name") => "Unload that one first (#!model unload NAME) or load this one with another --name.",
        (_, { } setting) when e.Remedy is null => $"Check --{setting}.",
        _ => e.Remedy ?? "",
    };

    /// <summary>
    /// Runs <paramref name="work"/> on one thread inside a TorchSharp dispose scope (scopes are per thread, so the work
    /// must not hop threads): every tensor it makes is freed when it ends, which keeps memory flat over many runs. The
    /// view is made inside; a tensor result survives only when <paramref name="keep"/> (it goes into a --as variable).
    /// </summary>
    static Task<Output> InDisposeScope(Func<Output> work, bool keep, CancellationToken cancel) =>
        Task.Run(() =>
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var output = work();
            if (keep && output.Value is TorchSharp.torch.Tensor tensor) tensor.Keep();
            return output;
        }, cancel);

    /// <summary>Loads a model into the registry (or finds it loaded) and declares it as a C# variable under its name.</summary>
    public async Task<LensModel> LoadAsync(KernelInvocationContext context, string source, string? name, LoadOptions options,
        IProgress<LensProgress>? progress)
    {
        var modelName = name ?? LensModel.DefaultName(source);
        CSharpNames.Check(modelName, "a model name", "--name llama");
        var model = await Registry.LoadAsync(source, modelName, options, progress, context.CancellationToken);
        await SetVariableAsync(context, model.Name, model);
        return model;
    }

    /// <summary>Declares <paramref name="name"/> in the C# kernel with <paramref name="value"/> (its runtime type).</summary>
    public async Task SetVariableAsync(KernelInvocationContext context, string name, object value)
    {
        var csharp = _kernel.FindKernelByName(CSharpKernelName)
                     ?? throw new MagicException($"There is no C# kernel to put '{name}' into.", "Use --as in a notebook with the C# (csharp) kernel.");
        KernelCommand send;
        if (value.GetType() is { IsNested: true, IsGenericType: false } nested)
        {
            // SendValue would declare "TorchSharp.torch+Tensor name", which is not C#.
            var typeName = nested.FullName!.Replace('+', '.');
            VariableHandoff.Give(value);
            send = new SubmitCode($"{typeName} {name} = ({typeName}){typeof(VariableHandoff).FullName}.{nameof(VariableHandoff.Take)}();");
        }
        else
        {
            // Without a formatted value SendValue JSON-serializes the value itself, which fails on TorchSharp tensors
            // (Span<byte> properties); the C# kernel uses the object, the text is only a label.
            send = new SendValue(name, value, new FormattedValue(PlainTextFormatter.MimeType, value.GetType().Name));
        }
        send.SetParent(context.Command, true);
        var result = await csharp.SendAsync(send);
        if (result.Events.OfType<CommandFailed>().FirstOrDefault() is { } failed)
            throw new MagicException($"Could not set the C# variable '{name}': {failed.Message.Split('\n')[0].Trim()}",
                "Pick another name with --as (a name already used for a variable of another type cannot be reused).");
    }

    Task ShowHelpAsync(KernelCommand command, KernelInvocationContext context)
    {
        Show(context, new Output(_usages, SessionViews.Help(_usages)));
        if (UnknownSubcommand(command) is { } word)
            context.Fail(command, message:
                $"Unknown subcommand '{word}'. #!model takes one of: {string.Join(", ", _usages.Select(u => u.Name))} " +
                "(see the table above), e.g. #!model tokens \"Hello world\".");
        return Task.CompletedTask;
    }

    /// <summary>
    /// The first word after <c>#!model</c> when the parser found no subcommand in it. The directive's text is only
    /// public through the command's <c>ToString()</c> ("Directive: #!model ...").
    /// </summary>
    static string? UnknownSubcommand(KernelCommand command)
    {
        var text = command.ToString() ?? "";
        var at = text.IndexOf(DirectiveName, StringComparison.Ordinal);
        if (at < 0) return null;
        var rest = text[(at + DirectiveName.Length)..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return rest.FirstOrDefault(w => !w.StartsWith("--", StringComparison.Ordinal));
    }
}
