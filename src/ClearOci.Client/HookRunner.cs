using System.Text;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Client;

/// <summary>
/// Runs OCI hooks on the host, as runc does: the state JSON on stdin, the hook's own args and
/// env, a timeout in seconds, stdout and stderr collected for the error message. Every hook runs
/// on the host, including createContainer and startContainer, which the spec places in the
/// container's namespaces: those live inside the VM, where host binaries cannot run.
/// </summary>
public static class HookRunner
{
    /// <summary>Runs the hooks in order; the first failure throws (callers decide if it is fatal).</summary>
    public static void Run(string phase, IEnumerable<Hook>? hooks, OciState state)
    {
        byte[] stdin = Encoding.UTF8.GetBytes(SpecJson.Serialize(state));
        int index = 0;
        foreach (var hook in hooks ?? [])
        {
            try { RunOne(hook, stdin); }
            catch (ClearOciException e) { throw e.WithContext($"{phase} hook #{index} ({hook.Path})"); }
            index++;
        }
    }

    /// <summary>Like <see cref="Run"/> but failures are only logged (poststart, poststop).</summary>
    public static void RunBestEffort(string phase, IEnumerable<Hook>? hooks, OciState state)
    {
        try { Run(phase, hooks, state); }
        catch (ClearOciException e) { DebugLog.Write($"warning: {e.Message}"); }
    }

    private static void RunOne(Hook hook, byte[] stdin)
    {
        var (inRead, inWrite) = Libc.Pipe();
        var (outRead, outWrite) = Libc.Pipe();
        int pid;
        try
        {
            pid = Spawner.Spawn(new SpawnOptions
            {
                Path = hook.Path,
                Args = hook.Args is { Count: > 0 } a ? a : [hook.Path],
                Env = hook.Env ?? [],
                Fds = new Dictionary<int, int> { [0] = inRead, [1] = outWrite, [2] = outWrite },
            });
        }
        catch (ClearOciException)
        {
            Libc.close(inWrite); Libc.close(outRead);
            throw;
        }
        finally { Libc.close(inRead); Libc.close(outWrite); }

        var exited = Reaper.WaitAsync(pid);
        var output = Task.Run(() => Libc.ReadToEnd(outRead));
        try { Libc.WriteAll(inWrite, stdin); } catch (ClearOciException) { /* the hook need not read its stdin */ }
        Libc.close(inWrite);
        var timeout = hook.Timeout is int t and > 0 ? TimeSpan.FromSeconds(t) : Timeout.InfiniteTimeSpan;
        if (!exited.Wait(timeout))
        {
            Libc.kill(pid, 9);
            exited.Wait();
            Libc.close(outRead);
            throw new ClearOciException(ErrorCode.Timeout, $"timed out after {hook.Timeout} s");
        }
        string text = Encoding.UTF8.GetString(output.Result).Trim();
        Libc.close(outRead);
        int status = exited.Result;
        if (status != 0)
            throw new ClearOciException(ErrorCode.System, $"exited with status {WaitStatus.ToExitCode(status)}{(text.Length > 0 ? $": {text}" : "")}");
    }
}
