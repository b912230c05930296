namespace ClearOci.Spec;

/// <summary>
/// Reads and checks a bundle's <c>config.json</c> (and the other OCI inputs: <c>exec --process</c>,
/// <c>update --resources</c>). Every failure is a <see cref="ErrorCode.InvalidArgument"/> error whose message
/// names the file, the 1-based line and column, the JSON path and what was expected, for example
/// <c>/b/config.json:3:31: $.process.args: expected an array of strings, got a number</c>.
/// </summary>
public static class ConfigLoader
{
    public const string ConfigFileName = "config.json";

    /// <summary>Loads <c>BUNDLE/config.json</c> and resolves the root filesystem against the bundle.</summary>
    /// <param name="requireProcess">True for <c>create</c>/<c>run</c>: the config must name a program to run.</param>
    /// <returns>The config and the absolute path of its root filesystem, which exists and is a directory.</returns>
    public static (OciSpec Spec, string RootfsPath) Load(string bundleDir, bool requireProcess = true)
    {
        string bundle = Path.GetFullPath(bundleDir);
        return LoadFile(Path.Combine(bundle, ConfigFileName), bundle, requireProcess);
    }

    /// <summary>As <see cref="Load"/>, with the config read from <paramref name="configPath"/>.</summary>
    public static (OciSpec Spec, string RootfsPath) LoadFile(string configPath, string bundleDir, bool requireProcess = true)
    {
        byte[] bytes = ReadFile(configPath);
        ReadOnlySpan<byte> utf8 = JsonInput.StripBom(bytes);
        OciSpec spec = Parse(utf8, configPath, requireProcess);
        string rootfs = Path.GetFullPath(Path.Combine(Path.GetFullPath(bundleDir), spec.Root!.Path));
        if (!Directory.Exists(rootfs))
        {
            string why = Path.Exists(rootfs) ? "not a directory" : "no such file or directory";
            throw JsonInput.Error(utf8, configPath, "$.root.path", $"{rootfs}: {why}");
        }
        return (spec, rootfs);
    }

    /// <summary>Parses and checks a config held in memory; <paramref name="fileName"/> is only used in messages.
    /// Does not touch the file system (the root filesystem is not checked).</summary>
    public static OciSpec Parse(string json, string fileName, bool requireProcess = true) =>
        Parse(System.Text.Encoding.UTF8.GetBytes(json), fileName, requireProcess);

    /// <inheritdoc cref="Parse(string, string, bool)"/>
    public static OciSpec Parse(ReadOnlySpan<byte> utf8Json, string fileName, bool requireProcess = true)
    {
        utf8Json = JsonInput.StripBom(utf8Json);
        OciSpec spec = JsonInput.Deserialize(utf8Json, fileName, SpecJsonContext.Default.OciSpec);
        ThrowFirst(SpecValidator.Check(spec, requireProcess), utf8Json, fileName);
        return spec;
    }

    /// <summary>Parses and checks a process document (<c>exec --process FILE</c>).</summary>
    public static Process ParseProcess(ReadOnlySpan<byte> utf8Json, string fileName)
    {
        utf8Json = JsonInput.StripBom(utf8Json);
        Process process = JsonInput.Deserialize(utf8Json, fileName, SpecJsonContext.Default.Process);
        ThrowFirst(SpecValidator.CheckProcess(process), utf8Json, fileName);
        return process;
    }

    /// <summary>Parses and checks a resources document (<c>update --resources FILE|-</c>).</summary>
    public static LinuxResources ParseResources(ReadOnlySpan<byte> utf8Json, string fileName)
    {
        utf8Json = JsonInput.StripBom(utf8Json);
        LinuxResources resources = JsonInput.Deserialize(utf8Json, fileName, SpecJsonContext.Default.LinuxResources);
        ThrowFirst(SpecValidator.CheckResources(resources), utf8Json, fileName);
        return resources;
    }

    /// <summary>Reads a whole input file, turning failures into runc-like messages (<c>open PATH: no such file or directory</c>).</summary>
    public static byte[] ReadFile(string path)
    {
        const int ENOENT = 2, EACCES = 13, EISDIR = 21;
        if (Directory.Exists(path))
            throw new ClearOciException(ErrorCode.InvalidArgument, $"read {path}: is a directory", EISDIR);
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ClearOciException(ErrorCode.InvalidArgument, $"open {path}: no such file or directory", ENOENT);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ClearOciException(ErrorCode.System, $"open {path}: permission denied", EACCES, e);
        }
        catch (IOException e)
        {
            throw new ClearOciException(ErrorCode.System, $"read {path}: {e.Message}", inner: e);
        }
    }

    private static void ThrowFirst(IReadOnlyList<SpecProblem> problems, ReadOnlySpan<byte> utf8, string fileName)
    {
        if (problems.Count > 0) throw JsonInput.Error(utf8, fileName, problems[0].Path, problems[0].Message);
    }
}
