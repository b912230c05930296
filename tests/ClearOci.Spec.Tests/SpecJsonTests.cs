namespace ClearOci.Spec.Tests;

public class SpecJsonTests
{
    [Test]
    public void Serialize_UnsetOptionalFields_AreOmitted()
    {
        var spec = new OciSpec { OciVersion = "1.0.2", Root = new Root { Path = "rootfs" } };

        Assert.That(SpecJson.Serialize(spec), Is.EqualTo("""{"ociVersion":"1.0.2","root":{"path":"rootfs"}}"""));
    }

    [Test]
    public void Serialize_PlusSign_IsNotEscaped()
    {
        var spec = new OciSpec { OciVersion = "1.1.0+dev" };

        Assert.That(SpecJson.Serialize(spec), Is.EqualTo("""{"ociVersion":"1.1.0+dev"}"""));
    }

    [Test]
    public void Serialize_RunningState_WritesAllFields()
    {
        var state = new OciState
        {
            OciVersion = "1.0.2", Id = "c1", Status = ContainerStatus.Running, Pid = 42, Bundle = "/b",
            Annotations = new() { ["k"] = "v" },
        };

        Assert.That(SpecJson.Serialize(state),
            Is.EqualTo("""{"ociVersion":"1.0.2","id":"c1","status":"running","pid":42,"bundle":"/b","annotations":{"k":"v"}}"""));
    }

    [Test]
    public void Serialize_StoppedStateWithoutPid_OmitsPid()
    {
        var state = new OciState { OciVersion = "1.0.2", Id = "c1", Status = ContainerStatus.Stopped, Bundle = "/b" };

        Assert.That(SpecJson.Serialize(state), Is.EqualTo("""{"ociVersion":"1.0.2","id":"c1","status":"stopped","bundle":"/b"}"""));
    }

    [Test]
    public void ParseState_WrittenState_RoundTrips()
    {
        var state = new OciState { OciVersion = "1.0.2", Id = "c1", Status = ContainerStatus.Created, Pid = 7, Bundle = "/b" };

        OciState read = SpecJson.ParseState(SpecJson.SerializeToUtf8Bytes(state), "state.json");

        Assert.That(read, Is.EqualTo(state));
    }

    [Test]
    public void ParseState_PidAsString_FailsWithPosition()
    {
        var error = Assert.Throws<ClearOciException>(() => SpecJson.ParseState("""{"id":"c1","pid":"7"}"""u8, "state.json"))!;

        Assert.That(error.Message, Is.EqualTo("state.json:1:18: $.pid: expected an integer between -2147483648 and 2147483647, got a string"));
    }

    [Test]
    public void Serialize_Indented_IsParseableAgain()
    {
        var spec = new OciSpec
        {
            OciVersion = "1.0.2",
            Process = new Process { Args = ["sh"], Cwd = "/" },
            Root = new Root { Path = "rootfs" },
        };

        string text = SpecJson.Serialize(spec, indented: true);

        Assert.That(text, Does.Contain("\n"));
        Assert.That(SpecJson.Serialize(ConfigLoader.Parse(text, "x")), Is.EqualTo(SpecJson.Serialize(spec)));
    }
}
