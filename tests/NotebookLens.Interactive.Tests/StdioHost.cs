using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace NotebookLens.Interactive.Tests;

/// <summary>
/// <c>dotnet-interactive stdio</c>, VS Code's host, driven as VS Code drives it: one JSON command envelope per line in
/// ({"commandType", "command", "token"}), JSON event envelopes out ({"eventType", "event", "command": {"token"}}). A
/// submission is parsed when it arrives, so the next is sent only after the previous one finished (a directive added
/// by a package is unknown before); a Cancel may be sent while one runs, as the stop button does.
/// </summary>
public sealed class StdioHost : IAsyncDisposable
{
    readonly Process _process;
    readonly StringBuilder _errors = new();
    readonly SemaphoreSlim _writing = new(1, 1);
    int _next;

    StdioHost(Process process) => _process = process;

    public int ProcessId => _process.Id;

    public static StdioHost Start(PackedFeed feed)
    {
        var process = new Process { StartInfo = feed.StartInfo("dotnet", ["tool", "run", "dotnet-interactive", "--", "stdio", "--default-kernel", "csharp"]) };
        process.StartInfo.RedirectStandardInput = true;
        var host = new StdioHost(process);
        process.ErrorDataReceived += (_, e) => { lock (host._errors) host._errors.AppendLine(e.Data); };
        process.Start();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Runs a cell in <paramref name="kernel"/> (the cell's kernel picker); <paramref name="onEvent"/> sees its events as they come.</summary>
    public async Task<StdioResult> SubmitAsync(string code, string kernel = "csharp", Action<StdioEvent>? onEvent = null)
    {
        var token = $"nb{++_next}";
        await SendAsync("SubmitCode", new JsonObject { ["code"] = code, ["targetKernelName"] = kernel }, token);
        var events = new List<StdioEvent>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        while (await _process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            // The host prints a banner before its first event; only JSON objects are events.
            if (!line.StartsWith('{')) continue;
            var json = JsonNode.Parse(line)!;
            var type = json["eventType"]?.GetValue<string>();
            var eventToken = json["command"]?["token"]?.GetValue<string>();
            if (type is null || eventToken is null || (eventToken != token && !eventToken.StartsWith(token + ".", StringComparison.Ordinal))) continue;
            var stdioEvent = new StdioEvent(type, json["event"]!, line);
            events.Add(stdioEvent);
            onEvent?.Invoke(stdioEvent);
            if (eventToken == token && type is "CommandSucceeded" or "CommandFailed")
                return new StdioResult(type == "CommandSucceeded", events);
        }
        lock (_errors) throw new InvalidOperationException($"dotnet-interactive stdio ended before {token} finished: {_errors}");
    }

    /// <summary>What VS Code's stop button sends.</summary>
    public Task CancelAsync() => SendAsync("Cancel", new JsonObject(), $"cancel{++_next}");

    async Task SendAsync(string commandType, JsonObject command, string token)
    {
        var envelope = new JsonObject { ["commandType"] = commandType, ["command"] = command, ["token"] = token };
        await _writing.WaitAsync();
        try
        {
            await _process.StandardInput.WriteLineAsync(envelope.ToJsonString());
            await _process.StandardInput.FlushAsync();
        }
        finally
        {
            _writing.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        // The host does not end when its input closes.
        if (!_process.WaitForExit(TimeSpan.FromSeconds(2))) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}

public sealed record StdioEvent(string Type, JsonNode Body, string Line);

public sealed record StdioResult(bool Succeeded, IReadOnlyList<StdioEvent> Events)
{
    public string Transcript => string.Join("\n", Events.Select(e => e.Line));

    /// <summary>Every value of one MIME type the cell displayed or returned, in order.</summary>
    public IReadOnlyList<string> Formatted(string mimeType) => Events
        .Where(e => e.Type is "DisplayedValueProduced" or "ReturnValueProduced" or "DisplayedValueUpdated")
        .SelectMany(e => e.Body["formattedValues"]!.AsArray())
        .Where(v => v!["mimeType"]!.GetValue<string>() == mimeType)
        .Select(v => v!["value"]!.GetValue<string>()).ToList();

    public string Html => string.Join("\n", Formatted("text/html"));

    public string Text => string.Join("\n", Formatted("text/plain"));

    /// <summary>What a C# expression cell returned, as the host shows it: a string as text/plain, other values in HTML only (<c>&lt;pre&gt;2&lt;/pre&gt;</c>).</summary>
    public string Returned
    {
        get
        {
            var values = Events.Where(e => e.Type == "ReturnValueProduced").SelectMany(e => e.Body["formattedValues"]!.AsArray())
                .ToDictionary(v => v!["mimeType"]!.GetValue<string>(), v => v!["value"]!.GetValue<string>());
            if (values.TryGetValue("text/plain", out var text)) return text;
            var html = values["text/html"];
            var start = html.IndexOf("<pre>", StringComparison.Ordinal) + "<pre>".Length;
            return System.Net.WebUtility.HtmlDecode(html[start..html.IndexOf("</pre>", start, StringComparison.Ordinal)]);
        }
    }

    public string? Failure => Events.FirstOrDefault(e => e.Type == "CommandFailed")?.Body["message"]?.GetValue<string>();
}
