namespace ClearOci.Vmm;

/// <summary>
/// The guest kernel, image and initramfs of one version. Searched, first hit wins:
/// $CLEAROCI_ASSETS (or "assets" in the configuration file, see <see cref="HostConfig"/>); then, beside the executable, ../share/clearoci/current; then
/// /usr/local/share/clearoci/current and /usr/share/clearoci/current. A version directory is
/// switched into place by replacing the <c>current</c> symlink, so running VMs keep their files.
/// </summary>
public sealed record GuestAssets(string Directory, string Kernel, string? Image, string? Initramfs, string Version, long ImageBytes = 0)
{
    public const string EnvironmentVariable = "CLEAROCI_ASSETS";

    public static IReadOnlyList<string> SearchPath(string? explicitDir, string? executableDir)
    {
        var list = new List<string>();
        if (!string.IsNullOrEmpty(explicitDir)) { list.Add(explicitDir); return list; }
        if (executableDir != null) list.Add(Path.GetFullPath(Path.Combine(executableDir, "..", "share", "clearoci", "current")));
        list.Add("/usr/local/share/clearoci/current");
        list.Add("/usr/share/clearoci/current");
        return list;
    }

    public static GuestAssets Locate() =>
        Locate(HostConfig.Get(EnvironmentVariable), Path.GetDirectoryName(Environment.ProcessPath));

    public static GuestAssets Locate(string? explicitDir, string? executableDir)
    {
        var tried = SearchPath(explicitDir, executableDir);
        foreach (var dir in tried)
        {
            string kernel = Path.Combine(dir, "vmlinux");
            if (!File.Exists(kernel)) continue;
            string image = Path.Combine(dir, "clearoci.img"), initramfs = Path.Combine(dir, "initramfs.cpio.gz");
            string versionFile = Path.Combine(dir, "version");
            string version = File.Exists(versionFile) ? File.ReadAllText(versionFile).Trim() : "unknown";
            // Resolve the symlink once: a switch of `current` during this VM's life must not mix versions.
            string resolved = new DirectoryInfo(dir).ResolveLinkTarget(true)?.FullName ?? dir;
            return new GuestAssets(resolved, Path.Combine(resolved, "vmlinux"),
                File.Exists(image) ? Path.Combine(resolved, "clearoci.img") : null,
                File.Exists(initramfs) ? Path.Combine(resolved, "initramfs.cpio.gz") : null, version,
                File.Exists(image) ? new FileInfo(image).Length : 0);
        }
        throw new ClearOciException(ErrorCode.Unsupported,
            $"guest assets not found (looked for vmlinux in {string.Join(", ", tried)}); run `make assets` or set {EnvironmentVariable}");
    }
}
