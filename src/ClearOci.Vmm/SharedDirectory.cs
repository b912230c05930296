using System.Runtime.ExceptionServices;
using ClearOci.Native;
using ClearOci.Spec;

namespace ClearOci.Vmm;

/// <summary>A host path bound at <see cref="Name"/> inside a share's staging directory.</summary>
/// <param name="Source">An existing host directory or file.</param>
/// <param name="Name">One path component: the entry of the staging directory it appears as.</param>
/// <param name="Recursive">rbind: the source's own submounts come along.</param>
/// <param name="ReadOnly">Read-only already on the host: the guest cannot write through it whatever it mounts.</param>
public sealed record HostBind(string Source, string Name, bool Recursive, bool ReadOnly);

/// <summary>
/// One virtio-fs share: a staging directory (created here, empty on the host) whose entries are
/// bind mounts of host paths. The binds exist only in a mount namespace private to the share's
/// virtiofsd: they never appear in the host's mount table and vanish with that virtiofsd, however
/// the runtime ends (delete, delete --force, a SIGKILLed supervisor).
/// </summary>
public sealed record SharedDirectory(string Tag, string Staging, IReadOnlyList<HostBind> Binds)
{
    /// <summary>Makes the staging directory and one empty entry per bind (a directory or a file, like its source).</summary>
    public void PrepareStaging()
    {
        Libc.MkdirAll(Staging, 0x1c0 /* 0700 */);
        foreach (var b in Binds)
        {
            if (b.Name.Length == 0 || b.Name.Contains('/') || b.Name is "." or "..")
                throw new ClearOciException(ErrorCode.Internal, $"bad staging name \"{b.Name}\"");
            string target = Path.Combine(Staging, b.Name);
            if (Directory.Exists(b.Source)) Libc.MkdirAll(target);
            else if (File.Exists(b.Source)) File.WriteAllBytes(target, []);
            else throw new ClearOciException(ErrorCode.NotFound, $"bind mount source {b.Source} does not exist");
        }
    }

    /// <summary>In the calling thread's (private) mount namespace: binds every source onto its staging entry.</summary>
    internal void MountBinds()
    {
        foreach (var b in Binds)
        {
            string target = Path.Combine(Staging, b.Name);
            Libc.Mount(b.Source, target, null, Libc.MS_BIND | (b.Recursive ? Libc.MS_REC : 0), null);
            if (b.ReadOnly) Libc.Mount(null, target, null, Libc.MS_BIND | Libc.MS_REMOUNT | Libc.MS_RDONLY, null);
        }
    }
}

/// <summary>
/// Runs work on a fresh thread that entered a namespace first. Namespaces belong to threads:
/// unshare or setns moves only this thread (and what it spawns), never the caller's, and a
/// namespace made here dies with the last process in it.
/// </summary>
public static class NamespaceThread
{
    public static T Run<T>(Action enter, Func<T> work)
    {
        T result = default!;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                enter();
                result = work();
            }
            catch (Exception e) { error = ExceptionDispatchInfo.Capture(e); }
        }) { Name = "namespace" };
        thread.Start();
        thread.Join();
        error?.Throw();
        return result;
    }

    /// <summary>In a private copy of the host's mount namespace: nothing mounted there propagates back.</summary>
    public static T InPrivateMounts<T>(Func<T> work) => Run(() =>
    {
        Libc.Check(Libc.unshare(Libc.CLONE_NEWNS), "unshare the mount namespace");
        Libc.Mount(null, "/", null, Libc.MS_REC | Libc.MS_PRIVATE, null);
    }, work);

    /// <summary>In the network namespace open on <paramref name="netnsFd"/>.</summary>
    public static T InNetwork<T>(int netnsFd, Func<T> work) =>
        Run(() => Libc.Check(Libc.setns(netnsFd, Libc.CLONE_NEWNET), "join the container's network namespace"), work);
}
