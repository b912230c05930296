namespace ClearOci.Shim;

/// <summary>UpdateTaskRequest: id=1, resources=2 (Any: LinuxResources JSON), annotations=3.</summary>
public sealed record UpdateTaskRequest(string Id, AnyMessage? Resources)
{
    public static UpdateTaskRequest Decode(ReadOnlySpan<byte> data)
    {
        string id = "";
        AnyMessage? resources = null;
        var r = new ProtoReader(data);
        while (r.Next(out int f))
        {
            if (f == 1) id = r.String();
            else if (f == 2) resources = AnyMessage.Decode(r.Bytes());
            else r.Skip();
        }
        return new UpdateTaskRequest(id, resources);
    }
}
