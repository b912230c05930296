using ClearOci.Client;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Shim;

/// <summary>One process of a task: the init (ExecId "") or an exec.</summary>
internal sealed class ShimProcess(string execId, string stdin, string stdout, string stderr, bool terminal)
{
    public string ExecId { get; } = execId;
    public string Stdin { get; } = stdin;
    public string Stdout { get; } = stdout;
    public string Stderr { get; } = stderr;
    public bool Terminal { get; } = terminal;
    public uint Pid { get; set; }
    public TaskState Status { get; set; } = TaskState.Created;
    public uint ExitStatus { get; set; }
    public DateTimeOffset? ExitedAt { get; set; }
    public ProcessIo? Io { get; set; }
    public string? SpecJson { get; init; }
    /// <summary>The name clearoci knows an exec by: unique per start, since containerd may reuse an exec id once deleted.</summary>
    public string ClearOciExecId { get; set; } = "";
    public TaskCompletionSource Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
