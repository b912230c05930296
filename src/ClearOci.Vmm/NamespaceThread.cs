using System.Runtime.ExceptionServices;
using ClearOci.Native;

namespace ClearOci.Vmm;

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

    /// <summary>Moves the calling thread into a private copy of the host's mount namespace: nothing mounted there propagates back.</summary>
    public static void EnterPrivateMounts()
    {
        Libc.Check(Libc.unshare(Libc.CLONE_NEWNS), "unshare the mount namespace");
        Libc.Mount(null, "/", null, Libc.MS_REC | Libc.MS_PRIVATE, null);
    }

    /// <summary>In the network namespace open on <paramref name="netnsFd"/>.</summary>
    public static T InNetwork<T>(int netnsFd, Func<T> work) =>
        Run(() => Libc.Check(Libc.setns(netnsFd, Libc.CLONE_NEWNET), "join the container's network namespace"), work);
}
