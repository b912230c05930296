using System.Text;
using System.Text.Json;
using ClearOci.Native;
using ClearOci.Seccomp;
using ClearOci.Spec;

namespace ClearOci.Agent;

/// <summary>
/// The init stage: a fresh single-purpose process, already in the container's new namespaces
/// (the agent unshared them on the spawning thread). It builds the container's filesystem view
/// and identity, reports "ready", waits for "start", and execs the container process, so the
/// container process itself is this pid (PID 1 of its pid namespace). fds: 0-2 stdio, 3 plan
/// (read), 4 sync (write; 'R' ready, 'E' + message on failure; closes on exec), 5 start (read).
/// For exec, the agent has joined the container's other namespaces already and fd 5 is the
/// container's mount namespace: the stage enters it (and so the container's root), sets the
/// process's identity and cwd, and execs at once, without the ready/start steps.
/// </summary>
internal static class ContainerInit
{
    public const string Verb = "init-container";
    public const int PlanFd = 3, StartFd = 5, MountNsFd = 5, ConsoleFd = 6, CgroupFd = 7;
    /// <summary>4 until preserved fds need that number just before exec.</summary>
    public static int SyncFd { get; private set; } = 4;

    /// <summary>
    /// A pty from the container's own devpts (so `tty` names a node the container can see): the
    /// slave becomes fds 0-2, the master goes to the agent on fd 6.
    /// </summary>
    private static void OpenTerminal(Process process)
    {
        var (master, slave) = Pty.OpenIn("/dev/ptmx");
        if (process.ConsoleSize is { } size) Pty.SetSize(master, (ushort)size.Height, (ushort)size.Width);
        for (int fd = 0; fd < 3; fd++) Libc.Check(Libc.dup3(slave, fd, 0), "dup3");
        Libc.close(slave);
        FdPassing.Send(ConsoleFd, "/dev/ptmx"u8, [master]);
        Libc.close(master);
        Libc.close(ConsoleFd);
    }

    public static int Run()
    {
        try
        {
            // fds mapped by posix_spawn arrive without close-on-exec; the sync pipe must close at exec.
            Libc.SetCloexec(SyncFd, true);
            var plan = JsonSerializer.Deserialize(Libc.ReadToEnd(PlanFd), AgentJsonContext.Default.InitPlan)
                ?? throw ClearOciException.Invalid("empty init plan");
            Libc.close(PlanFd);
            var process = plan.Exec ?? plan.Spec.Process ?? throw ClearOciException.Invalid("config has no process");
            if (plan.Exec != null)
            {
                // Own our fs first (threads share it), then enter the container's mount namespace (and root).
                Libc.Check(Libc.unshare(0x00000200 /* CLONE_FS */), "unshare(CLONE_FS)");
                Libc.Check(Libc.setns(MountNsFd, Libc.CLONE_NEWNS), "join the container's mount namespace");
                Libc.close(MountNsFd);
            }
            else
            {
                RootFs.Prepare(plan.RootfsPath, plan.Spec);
                if (!string.IsNullOrEmpty(plan.Spec.Hostname))
                    Libc.Check(Libc.sethostname(plan.Spec.Hostname, Encoding.UTF8.GetByteCount(plan.Spec.Hostname)), "sethostname");
            }
            if (process.Terminal == true) OpenTerminal(process);
            var env = process.Env ?? [];
            string cwd = string.IsNullOrEmpty(process.Cwd) ? "/" : process.Cwd;
            if (Libc.chdir(cwd) < 0) throw Libc.Error($"chdir to cwd (\"{cwd}\") set in config.json failed");
            var args = process.Args ?? [];
            string executable = Executable.Resolve(args[0], env);
            if (process.Terminal == true) Pty.BecomeControllingTerminal();
            // seccomp without noNewPrivileges needs CAP_SYS_ADMIN: load it before the identity (and capabilities) change.
            if (plan.Seccomp is { } privileged && process.NoNewPrivileges != true) SeccompInstaller.Install(privileged, noNewPrivileges: false);
            Identity.Apply(process.User);

            if (plan.Exec is null)
            {
                Libc.WriteAll(SyncFd, "R"u8);
                Span<byte> go = stackalloc byte[1];
                if (Libc.Read(StartFd, go) != 1) return 1; // the agent gave up on this container
                Libc.close(StartFd);
            }
            // Join the container's cgroup last, so its limits count the container, not this stage.
            try { Libc.WriteAll(CgroupFd, "0"u8); }
            catch (ClearOciException e) { throw e.WithContext("join the container's cgroup"); }
            Libc.close(CgroupFd);
            if (plan.ExtraFds.Count > 0)
            {
                // The sync pipe moves out of the way (still close-on-exec), then each preserved fd takes its number.
                int sync = Libc.Check(Libc.fcntl(SyncFd, 1030 /* F_DUPFD_CLOEXEC */, 200), "move the sync pipe");
                Libc.close(SyncFd);
                SyncFd = sync;
                foreach (var pair in plan.ExtraFds)
                {
                    Libc.Check(Libc.dup3(pair[0], pair[1], 0), $"dup3 {pair[0]} {pair[1]}");
                    Libc.close(pair[0]);
                }
            }
            // seccomp with noNewPrivileges: as late as possible, so the profile need not allow this stage's own calls.
            if (plan.Seccomp is { } filter && process.NoNewPrivileges == true) SeccompInstaller.Install(filter, noNewPrivileges: true);
            Libc.Execve(executable, args, env);
            throw Libc.Error($"exec: \"{args[0]}\"");
        }
        catch (Exception e)
        {
            try { Libc.WriteAll(SyncFd, Encoding.UTF8.GetBytes("E" + e.Message)); } catch { }
            return 127;
        }
    }
}

/// <summary>Finds the program as runc does: a path is used as given, a bare name is looked up in the container's PATH.</summary>
internal static class Executable
{
    public static string Resolve(string name, IReadOnlyList<string> env)
    {
        if (name.Contains('/'))
        {
            if (!File.Exists(name))
                throw new ClearOciException(ErrorCode.NotFound, $"exec: \"{name}\": stat {name}: no such file or directory");
            return name;
        }
        string path = env.LastOrDefault(e => e.StartsWith("PATH=", StringComparison.Ordinal))?[5..]
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var dir in path.Split(':'))
        {
            string candidate = Path.Combine(dir.Length == 0 ? "." : dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new ClearOciException(ErrorCode.NotFound, $"exec: \"{name}\": executable file not found in $PATH");
    }
}

/// <summary>uid, gid and supplementary groups.</summary>
internal static unsafe class Identity
{
    public static void Apply(User user)
    {
        var groups = (user.AdditionalGids ?? []).ToArray();
        fixed (uint* g = groups) Libc.Check(Libc.setgroups(groups.Length, g), "setgroups");
        Libc.Check(Libc.setresgid(user.Gid, user.Gid, user.Gid), $"setgid {user.Gid}");
        Libc.Check(Libc.setresuid(user.Uid, user.Uid, user.Uid), $"setuid {user.Uid}");
        if (user.Umask is uint mask) Libc.umask((int)mask);
    }
}
