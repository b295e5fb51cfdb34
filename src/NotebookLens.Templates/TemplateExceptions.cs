namespace NotebookLens.Templates;

/// <summary>Base class of every error raised while parsing or rendering a chat template.</summary>
public class TemplateException : Exception
{
    public TemplateException(string message) : base(message) { }

    public TemplateException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>The template source is malformed or uses a construct this interpreter does not support.</summary>
public sealed class TemplateSyntaxException : TemplateException
{
    public TemplateSyntaxException(string message) : base(message) { }
}

/// <summary>Rendering failed: a type error, an undefined value used where jinja2 would raise, a limit hit.</summary>
public class TemplateRuntimeException : TemplateException
{
    public TemplateRuntimeException(string message) : base(message) { }

    public TemplateRuntimeException(string message, Exception? inner) : base(message, inner) { }

    /// <summary>
    /// True once the message names where in the template the error happened; the innermost
    /// expression that sees an unlocated error stamps its position and outer ones leave it alone.
    /// </summary>
    internal bool IsLocated { get; init; }
}

/// <summary>The template itself called <c>raise_exception(msg)</c>; <see cref="Exception.Message"/> is exactly msg.</summary>
public sealed class TemplateRaisedException : TemplateRuntimeException
{
    public TemplateRaisedException(string message) : base(message) { IsLocated = true; }
}
