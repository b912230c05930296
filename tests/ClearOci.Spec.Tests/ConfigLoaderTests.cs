using System.Text;

namespace ClearOci.Spec.Tests;

public class ConfigLoaderTests
{
    private const string Minimal = """
        {
          "ociVersion": "1.0.2",
          "process": { "user": { "uid": 0, "gid": 0 }, "args": ["sh"], "cwd": "/" },
          "root": { "path": "rootfs" }
        }
        """;

    private string _bundle = "";

    [SetUp]
    public void CreateBundle()
    {
        _bundle = Directory.CreateTempSubdirectory("clearoci-spec-").FullName;
    }

    [TearDown]
    public void RemoveBundle() => Directory.Delete(_bundle, recursive: true);

    private string Config => Path.Combine(_bundle, "config.json");

    private static ClearOciException Fails(TestDelegate action)
    {
        var error = Assert.Throws<ClearOciException>(action)!;
        Assert.That(error.Code, Is.EqualTo(ErrorCode.InvalidArgument));
        return error;
    }

    [Test]
    public void Load_NoConfigFile_FailsWithNoSuchFile()
    {
        var error = Fails(() => ConfigLoader.Load(_bundle));

        Assert.That(error.Message, Is.EqualTo($"open {Config}: no such file or directory"));
        Assert.That(error.Errno, Is.EqualTo(2));
    }

    [Test]
    public void Load_BundleDoesNotExist_FailsWithNoSuchFile()
    {
        string missing = Path.Combine(_bundle, "nope");

        var error = Fails(() => ConfigLoader.Load(missing));

        Assert.That(error.Message, Is.EqualTo($"open {missing}/config.json: no such file or directory"));
    }

    [Test]
    public void Load_ConfigIsADirectory_FailsWithIsADirectory()
    {
        Directory.CreateDirectory(Config);

        var error = Fails(() => ConfigLoader.Load(_bundle));

        Assert.That(error.Message, Is.EqualTo($"read {Config}: is a directory"));
    }

    [Test]
    public void Load_RelativeRootfs_ResolvesAgainstTheBundle()
    {
        File.WriteAllText(Config, Minimal);
        Directory.CreateDirectory(Path.Combine(_bundle, "rootfs"));

        var (spec, rootfs) = ConfigLoader.Load(_bundle);

        Assert.That(rootfs, Is.EqualTo(Path.Combine(_bundle, "rootfs")));
        Assert.That(spec.Process!.Args, Is.EqualTo(new[] { "sh" }));
    }

    [Test]
    public void Load_RelativeBundlePath_ReturnsAbsoluteNormalisedRootfs()
    {
        File.WriteAllText(Config, Minimal.Replace("\"rootfs\"", "\"./sub/../rootfs/\""));
        Directory.CreateDirectory(Path.Combine(_bundle, "rootfs"));
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, _bundle);

        var (_, rootfs) = ConfigLoader.Load(relative);

        Assert.That(rootfs.TrimEnd('/'), Is.EqualTo(Path.Combine(_bundle, "rootfs")));
    }

    [Test]
    public void Load_AbsoluteRootfs_IsUsedAsIs()
    {
        string elsewhere = Path.Combine(_bundle, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        File.WriteAllText(Config, Minimal.Replace("\"rootfs\"", $"\"{elsewhere}\""));

        Assert.That(ConfigLoader.Load(_bundle).RootfsPath, Is.EqualTo(elsewhere));
    }

    [Test]
    public void Load_RootfsMissing_NamesTheResolvedPathAndPosition()
    {
        File.WriteAllText(Config, Minimal);

        var error = Fails(() => ConfigLoader.Load(_bundle));

        Assert.That(error.Message, Is.EqualTo($"{Config}:4:21: $.root.path: {_bundle}/rootfs: no such file or directory"));
    }

    [Test]
    public void Load_ConfigWithByteOrderMark_Loads()
    {
        File.WriteAllBytes(Config, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Minimal)]);
        Directory.CreateDirectory(Path.Combine(_bundle, "rootfs"));

        Assert.That(ConfigLoader.Load(_bundle).Spec.OciVersion, Is.EqualTo("1.0.2"));
    }

    [Test]
    public void Parse_NoProcessWhenNotRequired_Succeeds()
    {
        OciSpec spec = ConfigLoader.Parse("""{"ociVersion":"1.2.0","root":{"path":"r"}}""", "c.json", requireProcess: false);

        Assert.That(spec.Process, Is.Null);
    }

    [Test]
    public void Parse_UnknownFields_AreKeptAndWrittenBack()
    {
        string json = Minimal.Replace("\"ociVersion\"", "\"vm\": {\"hypervisor\": {\"path\": \"/q\"}}, \"ociVersion\"");

        OciSpec spec = ConfigLoader.Parse(json, "c.json");

        Assert.That(spec.ExtensionData!.Keys, Is.EqualTo(new[] { "vm" }));
        Assert.That(SpecJson.Serialize(spec), Does.Contain("\"vm\":{\"hypervisor\":{\"path\":\"/q\"}}"));
    }

    [Test]
    public void Parse_DuplicateKey_LastOneWins()
    {
        string json = Minimal.Replace("\"args\": [\"sh\"]", "\"args\": [\"first\"], \"args\": [\"second\"]");

        Assert.That(ConfigLoader.Parse(json, "c.json").Process!.Args, Is.EqualTo(new[] { "second" }));
    }

    [Test]
    public void Parse_NonAsciiBeforeTheError_CountsColumnsInCharacters()
    {
        string json = "{\"hostname\": \"h\u00e9h\u00e9\", \"ociVersion\": 1}";

        var error = Fails(() => ConfigLoader.Parse(json, "c.json"));

        Assert.That(error.Message, Is.EqualTo("c.json:1:36: $.ociVersion: expected a string, got a number"));
    }

    [Test]
    public void Parse_DocumentIsNull_FailsExpectingAnObject()
    {
        var error = Fails(() => ConfigLoader.Parse("null", "c.json"));

        Assert.That(error.Message, Is.EqualTo("c.json:1:1: $: expected an object, got null"));
    }

    [Test]
    public void Parse_GarbageAfterTheDocument_Fails()
    {
        var error = Fails(() => ConfigLoader.Parse(Minimal + "\n}", "c.json"));

        Assert.That(error.Message, Does.StartWith("c.json:6:1: invalid JSON: "));
    }

    [Test]
    public void Parse_InvalidLiteralInsideObject_NamesTheCharacter()
    {
        var error = Fails(() => ConfigLoader.Parse("{\"process\": {\"terminal\": tru}}", "c.json"));

        Assert.That(error.Message, Is.EqualTo("c.json:1:29: invalid JSON: invalid character '}' in literal true"));
    }

    [Test]
    public void Parse_NullUid_FailsExpectingAnInteger()
    {
        var error = Fails(() => ConfigLoader.Parse(Minimal.Replace("\"uid\": 0", "\"uid\": null"), "c.json"));

        Assert.That(error.Message, Is.EqualTo("c.json:3:33: $.process.user.uid: expected an integer between 0 and 4294967295, got null"));
    }

    [Test]
    public void Parse_FractionalUid_FailsShowingTheNumber()
    {
        var error = Fails(() => ConfigLoader.Parse(Minimal.Replace("\"uid\": 0", "\"uid\": 1.5"), "c.json"));

        Assert.That(error.Message, Does.EndWith("$.process.user.uid: expected an integer between 0 and 4294967295, got 1.5"));
    }

    [Test]
    public void Parse_ListOfObjectsGivenAString_FailsExpectingAnArrayOfObjects()
    {
        var error = Fails(() => ConfigLoader.Parse(Minimal.Replace("\"root\"", "\"mounts\": \"/proc\", \"root\""), "c.json"));

        Assert.That(error.Message, Does.EndWith("$.mounts: expected an array of objects, got a string"));
    }

    [Test]
    public void Parse_SysctlValueNumber_FailsExpectingAString()
    {
        string json = Minimal.Replace("\"root\"", "\"linux\": {\"sysctl\": {\"net.ipv4.ip_forward\": 1}}, \"root\"");

        var error = Fails(() => ConfigLoader.Parse(json, "c.json"));

        Assert.That(error.Message, Is.EqualTo("c.json:4:47: $.linux.sysctl['net.ipv4.ip_forward']: expected a string, got a number"));
    }

    [Test]
    public void Parse_MissingNestedValue_PointsAtTheEnclosingObject()
    {
        var error = Fails(() => ConfigLoader.Parse(Minimal.Replace("\"cwd\": \"/\"", "\"terminal\": false"), "c.json"));

        Assert.That(error.Message, Is.EqualTo("c.json:3:14: $.process.cwd: missing; expected an absolute path"));
    }

    [Test]
    public void ParseResources_DockerUpdateInput_ReadsEveryLimit()
    {
        // What dockerd sends on stdin for `docker update --cpus .5 --pids-limit 100` (shared/spec/engines.md).
        const string json = """{"memory":{"limit":0,"reservation":0,"kernel":0},"cpu":{"shares":0,"quota":50000,"period":100000},"pids":{"limit":100},"blockIO":{"weight":0}}""";

        LinuxResources resources = ConfigLoader.ParseResources(Encoding.UTF8.GetBytes(json), "stdin");

        Assert.Multiple(() =>
        {
            Assert.That(resources.Cpu!.Quota, Is.EqualTo(50000));
            Assert.That(resources.Cpu.Period, Is.EqualTo(100000));
            Assert.That(resources.Pids!.Limit, Is.EqualTo(100));
            Assert.That(resources.Memory!.Kernel, Is.EqualTo(0));
            Assert.That(resources.BlockIo!.Weight, Is.EqualTo((ushort)0));
            Assert.That(SpecJson.Serialize(resources), Is.EqualTo(json));
        });
    }

    [Test]
    public void ParseResources_BadDeviceRule_FailsWithPathFromTheTop()
    {
        var error = Fails(() => ConfigLoader.ParseResources("""{"devices":[{"allow":true,"access":"rwx"}]}"""u8, "/tmp/res.json"));

        Assert.That(error.Message, Is.EqualTo("/tmp/res.json:1:36: $.devices[0].access: invalid access \"rwx\"; expected some of the letters r, w and m"));
    }

    [Test]
    public void ParseProcess_ExecProcessWithRelativeCwd_Fails()
    {
        var error = Fails(() => ConfigLoader.ParseProcess("""{"args":["ls"],"cwd":"tmp"}"""u8, "process.json"));

        Assert.That(error.Message, Is.EqualTo("process.json:1:22: $.cwd: \"tmp\" is not an absolute path"));
    }

    [Test]
    public void ParseProcess_ValidExecProcess_Parses()
    {
        Process process = ConfigLoader.ParseProcess("""{"terminal":true,"consoleSize":{"height":24,"width":80},"user":{"uid":1000,"gid":1000},"args":["ls","-l"],"cwd":"/tmp"}"""u8, "p.json");

        Assert.That(process.ConsoleSize, Is.EqualTo(new ConsoleSize { Height = 24, Width = 80 }));
        Assert.That(process.User.Uid, Is.EqualTo(1000u));
    }
}
