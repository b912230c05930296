using System.Text;

namespace ClearOci.Spec.Tests;

public class JsonPathTests
{
    private static readonly byte[] s_doc = Encoding.UTF8.GetBytes("""
        {
          "a": {"b": [10, {"c": true}]},
          "annotations": {"x.y": "z", "it's": "q"},
          "d": 1,
          "d": [2]
        }
        """);

    private static (int, int)? At(string path) =>
        JsonPath.Locate(s_doc, path) is { Exact: true } l ? JsonPath.LineColumn(s_doc, l.Offset) : null;

    [TestCase("$", 1, 1)]
    [TestCase("$.a", 2, 8)]
    [TestCase("$.a.b[0]", 2, 15)]
    [TestCase("$.a.b[1].c", 2, 25)]
    [TestCase("$.annotations['x.y']", 3, 26)]
    [TestCase("$.annotations['it\\'s']", 3, 39)]
    public void Locate_ExistingPath_FindsTheValue(string path, int line, int column) =>
        Assert.That(At(path), Is.EqualTo((line, column)));

    [Test]
    public void Locate_DuplicateKey_FindsTheLastOccurrence() => Assert.That(At("$.d[0]"), Is.EqualTo((5, 9)));

    [Test]
    public void Locate_MissingPath_ReturnsTheDeepestAncestor()
    {
        var location = JsonPath.Locate(s_doc, "$.a.b[7].c");

        Assert.That(location, Is.Not.Null);
        Assert.That(location!.Value.Exact, Is.False);
        Assert.That(JsonPath.LineColumn(s_doc, location.Value.Offset), Is.EqualTo((2, 14)), "the array $.a.b");
    }

    [TestCase("a.b")]
    [TestCase("$.")]
    [TestCase("$[x]")]
    [TestCase("$['open")]
    public void Parse_MalformedPath_ReturnsNull(string path) => Assert.That(JsonPath.Parse(path), Is.Null);

    [TestCase("simple", "$.simple")]
    [TestCase("io.container.manager", "$['io.container.manager']")]
    [TestCase("it's", "$['it\\'s']")]
    public void Property_Name_FormatsLikeSystemTextJson(string name, string expected) =>
        Assert.That(JsonPath.Property("$", name), Is.EqualTo(expected));
}
