using ClearOci.Native;

namespace ClearOci.Client;

/// <summary>The per-container directory under --root: created exclusively, removed completely.</summary>
public static class StateDirectory
{
    public static string Create(string root, string id)
    {
        Libc.MkdirAll(root, 0x1c0 /* 0700 */);
        string dir = Path.Combine(root, id);
        if (Libc.mkdir(dir, 0x1c0) < 0)
        {
            if (Libc.Errno == Libc.EEXIST) throw new ClearOciException(ErrorCode.AlreadyExists, $"container with id exists: {id}");
            throw Libc.Error($"mkdir {dir}");
        }
        return dir;
    }

    public static void Remove(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
    }
}
