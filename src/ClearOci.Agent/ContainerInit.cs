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
    /// slave becomes fds 0-2 (and, for the container's init, is bound over /dev/console as runc
    /// does), the master goes to the agent on fd 6.
    /// </summary>
    private static void OpenTerminal(Process process, bool console)
    {
        var (master, slave) = Pty.OpenIn("/dev/ptmx");
        if (process.ConsoleSize is { } size) Pty.SetSize(master, (ushort)size.Height, (ushort)size.Width);
        if (console && new FileInfo($"/proc/self/fd/{slave}").LinkTarget is { } pts && Directory.Exists("/dev"))
        {
            if (!Path.Exists("/dev/console")) File.WriteAllBytes("/dev/console", []);
            Libc.Mount(pts, "/dev/console", null, Libc.MS_BIND, null);
        }
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
            StageLog.Open();
            // fds mapped by posix_spawn arrive without close-on-exec; the sync pipe must close at exec.
            Libc.SetCloexec(SyncFd, true);
            var plan = JsonSerializer.Deserialize(Libc.ReadToEnd(PlanFd), AgentJsonContext.Default.InitPlan)
                ?? throw ClearOciException.Invalid("empty init plan");
            Libc.close(PlanFd);
            var process = plan.Exec ?? plan.Spec.Process ?? throw ClearOciException.Invalid("config has no process");
            int lastCap = Privileges.LastCap();
            var caps = Privileges.Sets.From(process.Capabilities, lastCap);
            Privileges.SetOomScoreAdj(process.OomScoreAdj);
            KernelSettings.NoteUnsupportedLabels(process, plan.Spec);
            if (plan.Exec != null)
            {
                // Own our fs first (threads share it), then enter the container's mount namespace (and root).
                Libc.Check(Libc.unshare(0x00000200 /* CLONE_FS */), "unshare(CLONE_FS)");
                Libc.Check(Libc.setns(MountNsFd, Libc.CLONE_NEWNS), "join the container's mount namespace");
                Libc.close(MountNsFd);
                if (process.Terminal == true) OpenTerminal(process, console: false);
            }
            else
            {
                // runc's order: mounts and /dev, pivot, console, read-only root, names, sysctls, protected paths.
                RootFs.Prepare(plan);
                if (process.Terminal == true) OpenTerminal(process, console: true);
                RootFs.MakeRootReadonly(plan.Spec);
                KernelSettings.SetNames(plan.Spec);
                KernelSettings.WriteSysctls(plan.Spec.Linux?.Sysctl);
                RootFs.ProtectPaths(plan.Spec.Linux);
            }
            // Names are looked up in the container's own /etc/passwd and /etc/group.
            var credentials = Credentials.Resolve(process.User);
            var env = credentials.WithHome(process.Env ?? []);
            string cwd = string.IsNullOrEmpty(process.Cwd) ? "/" : process.Cwd;
            // As runc: chdir as root first; a directory only the container's user may enter is tried again after setuid.
            bool chdirAsUser = false;
            if (Libc.chdir(cwd) < 0)
            {
                if (Libc.Errno != Libc.EACCES) throw Libc.Error($"chdir to cwd (\"{cwd}\") set in config.json failed");
                chdirAsUser = true;
            }
            var args = process.Args ?? [];
            string executable = Executable.Resolve(args[0], env);
            if (process.Terminal == true) Pty.BecomeControllingTerminal();

            if (plan.Exec is null)
            {
                Libc.WriteAll(SyncFd, "R"u8);
                Span<byte> go = stackalloc byte[1];
                if (Libc.Read(StartFd, go) != 1) return 1; // the agent gave up on this container
                Libc.close(StartFd);
            }
            // Join the container's cgroup late, so its limits count the container, not this stage;
            // a new cgroup namespace is made after that, rooted at the container's own group.
            try { Libc.WriteAll(CgroupFd, "0"u8); }
            catch (ClearOciException e) { throw e.WithContext("join the container's cgroup"); }
            Libc.close(CgroupFd);
            if (plan.Exec is null && NewCgroupNamespace(plan.Spec))
                Libc.Check(Libc.unshare(Libc.CLONE_NEWCGROUP), "unshare the cgroup namespace");
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
            // Privileges last, on this thread (the one that execs), in runc's order. A seccomp filter
            // goes in as runc installs it: without noNewPrivileges before DropBoundingAndKeepCaps (it
            // needs CAP_SYS_ADMIN then), with it after RaiseFinalSets, just before execve.
            Privileges.SetRlimits(process.Rlimits);
            Privileges.SetScheduler(process.Scheduler);
            Privileges.SetIoPriority(process.IoPriority);
            Privileges.SetPersonality(plan.Spec.Linux?.Personality);
            Privileges.SetNoNewPrivileges(process.NoNewPrivileges);
            if (plan.Seccomp is { } privileged && process.NoNewPrivileges != true) SeccompInstaller.Install(privileged, noNewPrivileges: false);
            Privileges.DropBoundingAndKeepCaps(caps, lastCap);
            Privileges.SetIds(credentials, process.User.Umask);
            if (chdirAsUser && Libc.chdir(cwd) < 0) throw Libc.Error($"chdir to cwd (\"{cwd}\") set in config.json failed");
            Privileges.RaiseFinalSets(caps, lastCap);
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

    /// <summary>A cgroup namespace to create (one given by path is the host's business, as the other joins are).</summary>
    private static bool NewCgroupNamespace(OciSpec spec) =>
        spec.Linux?.Namespaces?.Any(n => n.Type == "cgroup" && string.IsNullOrEmpty(n.Path)) == true;
}
