using System.Text;
using ClearOci.Native;
using ClearOci.Spec;
using ClearOci.Vmm;

namespace ClearOci.Runtime;

/// <summary>iproute2's ip and tc, run in the calling thread's network namespace, stdout captured.</summary>
internal static class HostCommand
{
    private static readonly string[] Dirs = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

    public static string Ip(IReadOnlyList<string> args, bool mayFail = false) => Run("ip", args, mayFail);

    public static string Tc(IReadOnlyList<string> args, bool mayFail = false) => Run("tc", args, mayFail);

    private static string Run(string tool, IReadOnlyList<string> args, bool mayFail)
    {
        string path = Dirs.Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists)
            ?? throw new ClearOciException(ErrorCode.Unsupported, $"{tool} not found: the container's network needs iproute2 (apt-get install iproute2)");
        var (outRead, outWrite) = Libc.Pipe();
        var (errRead, errWrite) = Libc.Pipe();
        int pid;
        try
        {
            pid = Spawner.Spawn(new SpawnOptions { Path = path, Args = [tool, .. args], Fds = new Dictionary<int, int> { [1] = outWrite, [2] = errWrite } });
        }
        catch
        {
            Libc.close(outRead); Libc.close(errRead);
            throw;
        }
        finally { Libc.close(outWrite); Libc.close(errWrite); }
        var error = Task.Run(() => Libc.ReadToEnd(errRead));
        string output = Encoding.UTF8.GetString(Libc.ReadToEnd(outRead));
        int status = Reaper.WaitAsync(pid).Result;
        string message = Encoding.UTF8.GetString(error.Result).Trim();
        Libc.close(outRead); Libc.close(errRead);
        if (status != 0 && !mayFail)
            throw new ClearOciException(ErrorCode.System, $"{tool} {string.Join(' ', args)}: exit status {WaitStatus.ToExitCode(status)}: {message}");
        return output;
    }
}
