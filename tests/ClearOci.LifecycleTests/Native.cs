using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ClearOci.LifecycleTests;

/// <summary>How a reaped process ended, as waitpid reported it.</summary>
public readonly record struct WaitResult(bool Exited, int Code, int Signal)
{
    /// <summary>The shell's convention: the exit code, or 128+N for death by signal N.</summary>
    public int ShellCode => Exited ? Code : 128 + Signal;

    public override string ToString() => Exited ? $"exited {Code}" : $"killed by signal {Signal}";
}

/// <summary>
/// The calls an engine (containerd-shim, conmon) makes to adopt the runtime's detached process and
/// read its status: prctl(PR_SET_CHILD_SUBREAPER) once, waitpid on the pid-file pid later.
/// </summary>
public static class Native
{
    private const int PR_SET_CHILD_SUBREAPER = 36;
    private const int PR_GET_CHILD_SUBREAPER = 37;
    private const int WNOHANG = 1;
    private const int ECHILD = 10;
    private const int EINTR = 4;

    [DllImport("libc", SetLastError = true)]
    private static extern int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [DllImport("libc", SetLastError = true)]
    private static extern int prctl(int option, out int arg2, ulong arg3, ulong arg4, ulong arg5);

    [DllImport("libc", SetLastError = true)]
    private static extern int waitpid(int pid, out int status, int options);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int sys_kill(int pid, int signal);

    public static void BecomeSubreaper()
    {
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
            throw new InvalidOperationException($"prctl(PR_SET_CHILD_SUBREAPER) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public static bool IsSubreaper => prctl(PR_GET_CHILD_SUBREAPER, out int v, 0, 0, 0) == 0 && v != 0;

    public static bool Kill(int pid, int signal) => sys_kill(pid, signal) == 0;

    /// <summary>
    /// Polls waitpid(pid, WNOHANG) until the child has ended or the deadline passes. Null on timeout;
    /// throws if <paramref name="pid"/> is not (or no longer) a child of this process.
    /// </summary>
    public static WaitResult? TryReap(int pid, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            int r = waitpid(pid, out int status, WNOHANG);
            if (r == pid) return Decode(status);
            if (r < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                throw new InvalidOperationException(errno == ECHILD
                    ? $"pid {pid} is not a child of the test process (ECHILD): it was not re-parented to the subreaper, or was reaped already"
                    : $"waitpid({pid}) failed: errno {errno}");
            }
            if (clock.Elapsed >= deadline) return null;
            Thread.Sleep(20);
        }
    }

    public static WaitResult Reap(int pid, TimeSpan deadline) =>
        TryReap(pid, deadline) ?? throw new AssertionException($"pid {pid} did not end within {deadline.TotalSeconds:0} s");

    private static WaitResult Decode(int status)
    {
        int sig = status & 0x7f;
        return sig == 0 ? new WaitResult(true, (status >> 8) & 0xff, 0) : new WaitResult(false, 0, sig);
    }

    /// <summary>Zombie children of this process (adopted orphans that ended), as pid list.</summary>
    public static List<int> ZombieChildren()
    {
        var list = new List<int>();
        int self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] == "Z" && int.Parse(fields[1]) == self) list.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        }
        return list;
    }

    /// <summary>Reaps the zombies among this process's children (never a live child).</summary>
    public static List<(int Pid, WaitResult Result)> ReapZombies()
    {
        var reaped = new List<(int, WaitResult)>();
        foreach (int pid in ZombieChildren())
        {
            try
            {
                if (TryReap(pid, TimeSpan.Zero) is { } r) reaped.Add((pid, r));
            }
            catch (InvalidOperationException) { /* someone else reaped it */ }
        }
        return reaped;
    }
}

/// <summary>Once for the whole assembly: the test process adopts the orphans of the processes it starts.</summary>
[SetUpFixture]
public sealed class SubreaperSetup
{
    [OneTimeSetUp]
    public void BecomeSubreaper()
    {
        Native.BecomeSubreaper();
        Assert.That(Native.IsSubreaper, Is.True, "PR_GET_CHILD_SUBREAPER after PR_SET_CHILD_SUBREAPER");
    }
}
