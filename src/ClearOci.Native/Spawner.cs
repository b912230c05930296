using System.Runtime.InteropServices;

namespace ClearOci.Native;

/// <summary>
/// posix_spawn with clean signal state: every signal back to SIG_DFL and an empty mask, so a
/// child never inherits the SIGPIPE that .NET ignores. No fd leaks: only the mapped ones survive.
/// </summary>
public static unsafe partial class Spawner
{
    private const int POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSID = 0x80;

    [LibraryImport("libc", SetLastError = true)] private static partial int posix_spawn(out int pid, byte* path, void* actions, void* attr, byte** argv, byte** envp);
    [LibraryImport("libc", SetLastError = true)] private static partial int posix_spawn_file_actions_init(void* actions);
    [LibraryImport("libc", SetLastError = true)] private static partial int posix_spawn_file_actions_destroy(void* actions);
    [LibraryImport("libc", SetLastError = true)] private static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newfd);
    [LibraryImport("libc", SetLastError = true)] private static partial int posix_spawn_file_actions_addclosefrom_np(void* actions, int from);
    [LibraryImport("libc", SetLastError = true)] private static partial int posix_spawn_file_actions_addchdir_np(void* actions, byte* path);
    [LibraryImport("libc", SetLastError = true)] private static partial int posix_spawnattr_init(void* attr);
    [LibraryImport("libc", SetLastError = true)] private static partial int posix_spawnattr_destroy(void* attr);
    [LibraryImport("libc", SetLastError = true)] private static partial int posix_spawnattr_setflags(void* attr, short flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int posix_spawnattr_setsigdefault(void* attr, void* set);
    [LibraryImport("libc", SetLastError = true)] private static partial int posix_spawnattr_setsigmask(void* attr, void* set);

    /// <summary>Starts the child and returns its pid. Throws ClearOciException with errno on failure.</summary>
    public static int Spawn(SpawnOptions o)
    {
        var arena = new Arena();
        void* actions = NativeMemory.AllocZeroed(1024);
        void* attr = NativeMemory.AllocZeroed(1024);
        byte* sigset = (byte*)NativeMemory.AllocZeroed(128);
        try
        {
            posix_spawn_file_actions_init(actions);
            posix_spawnattr_init(attr);
            // Two passes through high fd numbers, so a map like {0<-1, 1<-0} cannot clobber itself.
            int temp = 3 + Math.Max(o.Fds.Count == 0 ? 0 : o.Fds.Keys.Max(), o.Fds.Count == 0 ? 0 : o.Fds.Values.Max());
            var order = o.Fds.OrderBy(kv => kv.Key).ToArray();
            for (int i = 0; i < order.Length; i++) Ok(posix_spawn_file_actions_adddup2(actions, order[i].Value, temp + i));
            for (int i = 0; i < order.Length; i++) Ok(posix_spawn_file_actions_adddup2(actions, temp + i, order[i].Key));
            int keep = order.Length == 0 ? 0 : order.Max(kv => kv.Key) + 1;
            // fds 0-2 that the caller did not map are closed as well except when mapped.
            Ok(posix_spawn_file_actions_addclosefrom_np(actions, keep));
            if (o.WorkingDirectory != null) Ok(posix_spawn_file_actions_addchdir_np(actions, arena.Str(o.WorkingDirectory)));

            for (int i = 0; i < 128; i++) sigset[i] = 0xff; // every signal back to SIG_DFL (incl. SIGPIPE)
            Ok(posix_spawnattr_setsigdefault(attr, sigset));
            byte* empty = (byte*)NativeMemory.AllocZeroed(128);
            Ok(posix_spawnattr_setsigmask(attr, empty));
            NativeMemory.Free(empty);
            short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
            if (o.NewSession) flags |= POSIX_SPAWN_SETSID;
            Ok(posix_spawnattr_setflags(attr, flags));

            byte** argv = arena.StrArray(o.Args);
            byte** envp = arena.StrArray(o.Env ?? CurrentEnvironment());
            int rc = posix_spawn(out int pid, arena.Str(o.Path), actions, attr, argv, envp);
            if (rc != 0) throw Libc.Error($"spawn {o.Path}", rc);
            return pid;
        }
        finally
        {
            posix_spawn_file_actions_destroy(actions);
            posix_spawnattr_destroy(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
            NativeMemory.Free(sigset);
            arena.Dispose();
        }
    }

    private static void Ok(int rc)
    {
        if (rc != 0) throw Libc.Error("posix_spawn setup", rc);
    }

    public static List<string> CurrentEnvironment()
    {
        var list = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables()) list.Add($"{e.Key}={e.Value}");
        return list;
    }
}
