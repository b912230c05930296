namespace ClearOci.Spec;

/// <summary>One semantic problem in a parsed document: the JSON path of the offending value and what is wrong.</summary>
public sealed record SpecProblem(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}
