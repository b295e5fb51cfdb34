namespace NotebookLens.Templates;

/// <summary>
/// A parsed Hugging Face chat template. Renders exactly as transformers'
/// <c>apply_chat_template(tokenize=False)</c>, i.e. jinja2's ImmutableSandboxedEnvironment with
/// trim_blocks, lstrip_blocks and the loopcontrols extension, plus HF's globals and tojson.
/// Parsed templates are immutable and may be rendered concurrently.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly IReadOnlyList<Statement> _body;

    private JinjaTemplate(IReadOnlyList<Statement> body) => _body = body;

    /// <exception cref="TemplateSyntaxException">The source is malformed or uses an unsupported construct.</exception>
    public static JinjaTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new JinjaTemplate(Parser.Parse(source));
    }

    /// <summary>
    /// Renders with the given variables (messages, add_generation_prompt, bos_token, tools, ...).
    /// Values may be strings, numbers, bools, null, lists, string-keyed dictionaries or JsonElements.
    /// </summary>
    /// <exception cref="TemplateRuntimeException">Rendering failed; <see cref="TemplateRaisedException"/> when the template called raise_exception.</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables) => Render(variables, DateTime.Now);


    /// <summary>
    /// Renders with a fixed clock: <c>strftime_now</c> (which Llama 3.1+ templates use to print today's
    /// date) formats <paramref name="now"/>, so the same inputs always give the same prompt.
    /// </summary>
    /// <exception cref="TemplateRuntimeException">Rendering failed; <see cref="TemplateRaisedException"/> when the template called raise_exception.</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var scope = new Scope(BuiltinGlobals.CreateScope());
        foreach ((string name, object? value) in variables)
            scope.Set(name, ValueConverter.FromClr(value, name));

        var ctx = new RenderContext(new Scope(scope), now);
        Statement.ExecuteAll(_body, ctx);
        return ctx.Output;
    }
}
