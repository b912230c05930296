using System.Text.Json;
using ClearOci.Native;
using ClearOci.Seccomp;
using ClearOci.Spec;

namespace ClearOci.Agent;

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
