using System.Diagnostics;
using System.Text;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Connection;
using Microsoft.DotNet.Interactive.Events;

namespace NotebookLens.Interactive;

/// <summary>
/// A kernel process started by a command (<c>ssh gpu-box dotnet-interactive stdio</c>) and spoken to over its stdin
/// and stdout with .NET Interactive's stdio protocol, the one <c>#!connect stdio</c> uses (its serializer, envelopes
/// and <see cref="ProxyKernel"/>). What <c>#!connect stdio</c>'s connector does not do and this does: when the process
/// ends (the remote died, ssh lost the connection) every command still waiting on it fails with a message saying so,
/// instead of hanging the notebook forever; and a new process can be started behind the same proxy kernel, so
/// reconnecting keeps the kernel's name.
/// </summary>
sealed class RemoteProcess : IKernelCommandAndEventSender, IKernelCommandAndEventReceiver, IDisposable
{
    const int StderrLines = 20;

    readonly string[] _command;
    readonly string _workingDirectory;
    readonly Lock _lock = new();
    readonly List<IObserver<CommandOrEvent>> _observers = [];
    /// <summary>The commands sent and not finished yet, by token: they fail when the process ends.</summary>
    readonly Dictionary<string, KernelCommand> _inFlight = [];
    readonly Queue<string> _stderr = new();
    readonly SemaphoreSlim _writing = new(1, 1);
    Process? _process;
    int? _exitCode;
    TaskCompletionSource<KernelReady>? _ready;

    public RemoteProcess(string[] command, string workingDirectory, Uri hostUri)
    {
        _command = command;
        _workingDirectory = workingDirectory;
        RemoteHostUri = hostUri;
    }

    /// <summary>The remote kernel host's address; the process is told it with <c>--kernel-host</c>.</summary>
    public Uri RemoteHostUri { get; }

    public string CommandLine => string.Join(' ', _command);

    /// <summary>The process this machine started (for <c>ssh</c>, the ssh client), while it runs.</summary>
    public int? ProcessId { get { lock (_lock) return _process is { HasExited: false } p ? p.Id : null; } }

    public bool IsRunning => ProcessId is not null;

    /// <summary>Starts the process and waits for its kernel to say it is ready; the kernels it has.</summary>
    public async Task<KernelReady> StartAsync(TimeSpan timeout, CancellationToken cancel)
    {
        var info = new ProcessStartInfo(_command[0])
        {
            WorkingDirectory = _workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        foreach (var argument in _command.Skip(1)) info.ArgumentList.Add(argument);
        // What the host appends to #!connect stdio's command: the remote's kernel host name.
        info.ArgumentList.Add("--kernel-host");
        info.ArgumentList.Add(RemoteHostUri.Authority);
        info.Environment["DOTNET_INTERACTIVE_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";

        var process = new Process { StartInfo = info };
        var ready = new TaskCompletionSource<KernelReady>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_process is { HasExited: false }) throw new InvalidOperationException("The remote process is running already.");
            _process?.Dispose();
            _process = process;
            _exitCode = null;
            _ready = ready;
            _stderr.Clear();
        }
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lock (_lock) { _stderr.Enqueue(line); if (_stderr.Count > StderrLines) _stderr.Dequeue(); } };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new MagicException($"Could not start {_command[0]}: {e.Message}.", "Check --command: its first word must be a program on this machine's PATH (e.g. ssh).");
        }
        process.BeginErrorReadLine();
        _ = Task.Run(() => ReadAsync(process));

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timer.CancelAfter(timeout);
        try
        {
            return await ready.Task.WaitAsync(timer.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            if (cancel.IsCancellationRequested) throw;
            throw new MagicException($"{CommandLine} started but no kernel answered within {timeout.TotalSeconds:F0} s.{LastErrors()}",
                "Check that the command starts `dotnet-interactive stdio` on the remote and passes on the arguments it is given; give a slow machine more time with --timeout.");
        }
    }

    /// <summary>One JSON envelope a line, until the process ends; then whatever still waited on it fails.</summary>
    async Task ReadAsync(Process process)
    {
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            // A host may print a banner before its first envelope.
            if (!line.StartsWith('{')) continue;
            CommandOrEvent message;
            try
            {
                message = Serializer.DeserializeCommandOrEvent(line);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NotSupportedException)
            {
                continue;
            }
            if (message.Event is KernelReady ready) _ready?.TrySetResult(ready);
            if (message.Event is KernelCommandCompletionEvent { Command: { } done })
                lock (_lock) _inFlight.Remove(done.GetOrCreateToken());
            Publish(message);
        }
        await process.WaitForExitAsync();
        Ended(process);
    }

    void Ended(Process process)
    {
        List<KernelCommand> waiting;
        string reason;
        lock (_lock)
        {
            if (!ReferenceEquals(process, _process)) return;
            waiting = [.. _inFlight.Values];
            _inFlight.Clear();
            _exitCode = process.ExitCode;
            reason = $"The remote kernel ({CommandLine}) ended with exit code {process.ExitCode}.{LastErrors()}";
        }
        _ready?.TrySetException(new MagicException(reason, "Check --command: it must start `dotnet-interactive stdio` on the remote machine."));
        foreach (var command in waiting)
            Publish(new CommandOrEvent(new CommandFailed(
                $"{reason} This cell's work on it is lost. The local kernel still works: reconnect with the same #!model connect line.", command)));
    }

    string LastErrors()
    {
        lock (_lock) return _stderr.Count == 0 ? "" : " It said: " + string.Join(" ", _stderr).Trim();
    }

    void Publish(CommandOrEvent message)
    {
        IObserver<CommandOrEvent>[] observers;
        lock (_lock) observers = [.. _observers];
        foreach (var observer in observers) observer.OnNext(message);
    }

    public async Task SendAsync(KernelCommand kernelCommand, CancellationToken cancellationToken)
    {
        var json = KernelCommandEnvelope.Serialize(KernelCommandEnvelope.Create(kernelCommand));
        Process process;
        lock (_lock)
        {
            process = _process is { HasExited: false } running ? running : null!;
            if (process is not null) _inFlight[kernelCommand.GetOrCreateToken()] = kernelCommand;
        }
        if (process is null)
        {
            // Failed as the remote would fail it, so the proxy kernel ends the cell with this message (a thrown
            // exception would reach the cell wrapped twice in AggregateExceptions).
            Publish(new CommandOrEvent(new CommandFailed(
                $"The remote kernel ({CommandLine}) is not running{(_exitCode is { } code ? $": it ended with exit code {code}" : "")}. Reconnect with the same #!model connect line.", kernelCommand)));
            return;
        }
        await WriteAsync(process, json);
    }

    /// <summary>
    /// Runs <paramref name="command"/> on the remote kernel beside the proxy kernel (which drops events of commands
    /// it did not send): its events go to <paramref name="onEvent"/> as they come, and are returned when it ends.
    /// </summary>
    public async Task<IReadOnlyList<KernelEvent>> RunAsync(KernelCommand command, CancellationToken cancel, Action<KernelEvent>? onEvent = null)
    {
        var token = command.GetOrCreateToken();
        var events = new List<KernelEvent>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = Subscribe(new Collector(message =>
        {
            if (message.Event is not { Command: { } of } e) return;
            var ofToken = of.GetOrCreateToken();
            if (ofToken != token && !ofToken.StartsWith(token + ".", StringComparison.Ordinal)) return;
            lock (events) events.Add(e);
            onEvent?.Invoke(e);
            if (e is KernelCommandCompletionEvent && ofToken == token) done.TrySetResult();
        }));
        await SendAsync(command, cancel);
        try
        {
            await done.Task.WaitAsync(cancel);
        }
        catch (OperationCanceledException)
        {
            await CancelAsync();
            throw;
        }
        lock (events) return [.. events];
    }

    /// <summary>Asks the remote kernel to stop what it is running (.NET Interactive's Cancel command), if anything is.</summary>
    public async Task CancelAsync()
    {
        lock (_lock)
            if (_inFlight.Count == 0) return;
        try
        {
            await SendAsync(new Cancel(), CancellationToken.None);
        }
        catch (Exception e) when (e is MagicException or IOException or ObjectDisposedException)
        {
            // The remote is gone: nothing runs there to stop.
        }
    }

    sealed class Collector(Action<CommandOrEvent> onNext) : IObserver<CommandOrEvent>
    {
        public void OnNext(CommandOrEvent value) => onNext(value);
        public void OnError(Exception error) { }
        public void OnCompleted() { }
    }

    public async Task SendAsync(KernelEvent kernelEvent, CancellationToken cancellationToken)
    {
        Process? process;
        lock (_lock) process = _process;
        if (process is { HasExited: false }) await WriteAsync(process, KernelEventEnvelope.Serialize(KernelEventEnvelope.Create(kernelEvent)));
    }

    async Task WriteAsync(Process process, string json)
    {
        // One envelope a line; writes from different threads must not interleave.
        await _writing.WaitAsync();
        try
        {
            await process.StandardInput.WriteAsync(json + "\n");
            await process.StandardInput.FlushAsync();
        }
        finally
        {
            _writing.Release();
        }
    }

    public IDisposable Subscribe(IObserver<CommandOrEvent> observer)
    {
        lock (_lock) _observers.Add(observer);
        return new Unsubscriber(this, observer);
    }

    sealed class Unsubscriber(RemoteProcess owner, IObserver<CommandOrEvent> observer) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._lock) owner._observers.Remove(observer);
        }
    }

    /// <summary>Ends the process (and what it started): the remote kernel goes with its connection.</summary>
    public void Kill()
    {
        Process? process;
        lock (_lock) process = _process;
        if (process is not { HasExited: false }) return;
        process.Kill(entireProcessTree: true);
        // Ended, before the next command is sent to it.
        process.WaitForExit(TimeSpan.FromSeconds(10));
    }

    public void Dispose()
    {
        Kill();
        lock (_lock) _process?.Dispose();
    }
}
