namespace ClearOci.Spec.Tests;

public class ContainerIdTests
{
    [TestCase("c1", ExpectedResult = true)]
    [TestCase("cd848834199acf015874a6b778d7ae7026b37e1f357d83c986a679d878e13241", ExpectedResult = true)]
    [TestCase("my_app.v2+build-7", ExpectedResult = true)]
    [TestCase("...", ExpectedResult = true)]
    [TestCase(".hidden", ExpectedResult = true)]
    [TestCase("@x", ExpectedResult = false)]
    [TestCase("-x", ExpectedResult = false)]
    [TestCase("x-", ExpectedResult = true)]
    public bool IsValid_Id_MatchesRuncRules(string id) => ContainerId.IsValid(id);

    [TestCase("c1")]
    [TestCase("a.b-c_d+e")]
    public void Validate_ValidId_DoesNotThrow(string id) => Assert.DoesNotThrow(() => ContainerId.Validate(id));

    [TestCase("", "invalid container id \"\": must not be empty")]
    [TestCase(".", "invalid container id \".\": must not be \".\" or \"..\"")]
    [TestCase("..", "invalid container id \"..\": must not be \".\" or \"..\"")]
    [TestCase("a/b", "invalid container id \"a/b\": path separator '/' at position 2 is not allowed (use only letters, digits, '_', '+', '-' and '.')")]
    [TestCase("../etc", "invalid container id \"../etc\": path separator '/' at position 3 is not allowed (use only letters, digits, '_', '+', '-' and '.')")]
    [TestCase("a b", "invalid container id \"a b\": character U+0020 at position 2 is not allowed (use only letters, digits, '_', '+', '-' and '.')")]
    [TestCase("a\nb", "invalid container id \"a\\nb\": character U+000A at position 2 is not allowed (use only letters, digits, '_', '+', '-' and '.')")]
    [TestCase("caf\u00e9", "invalid container id \"caf\u00e9\": character '\u00e9' at position 4 is not allowed (use only letters, digits, '_', '+', '-' and '.')")]
    [TestCase("-c1", "invalid container id \"-c1\": must not begin with '-' (runc reads it as a flag, and so would every verb after it)")]
    [TestCase("--force", "invalid container id \"--force\": must not begin with '-' (runc reads it as a flag, and so would every verb after it)")]
    [TestCase("x:y", "invalid container id \"x:y\": character ':' at position 2 is not allowed (use only letters, digits, '_', '+', '-' and '.')")]
    public void Validate_InvalidId_FailsWithClearMessage(string id, string message)
    {
        var error = Assert.Throws<ClearOciException>(() => ContainerId.Validate(id))!;

        Assert.That(error.Code, Is.EqualTo(ErrorCode.InvalidArgument));
        Assert.That(error.Message, Is.EqualTo(message));
    }

    [Test]
    public void Validate_Null_FailsAsEmpty()
    {
        var error = Assert.Throws<ClearOciException>(() => ContainerId.Validate(null))!;

        Assert.That(error.Message, Is.EqualTo("invalid container id \"\": must not be empty"));
    }

    [Test]
    public void Validate_MaximumLength_IsAccepted() =>
        Assert.DoesNotThrow(() => ContainerId.Validate(new string('a', ContainerId.MaxLength)));

    [Test]
    public void Validate_OverMaximumLength_FailsWithTruncatedIdInMessage()
    {
        var error = Assert.Throws<ClearOciException>(() => ContainerId.Validate(new string('a', 1025)))!;

        Assert.That(error.Message, Is.EqualTo($"invalid container id \"{new string('a', 64)}...\": is 1025 characters long; the limit is 1024"));
    }
}
