using System.Text.Json.Serialization;

namespace ClearOci.Protocol;

/// <summary>
/// Messages of the control channel between the host and the guest agent. Requests carry an
/// <see cref="Message.Id"/> &gt; 0 and get exactly one <see cref="Response"/> with the same id;
/// events (id 0) flow from the guest unasked, and the host answers a <see cref="DnsQuery"/> event
/// with a <see cref="DnsAnswer"/> (id 0, not answered in turn). Bulk stdio never travels here (see <see cref="IoFrame"/>).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(Hello), "hello")]
[JsonDerivedType(typeof(Response), "response")]
[JsonDerivedType(typeof(CreateContainer), "create")]
[JsonDerivedType(typeof(StartProcess), "start")]
[JsonDerivedType(typeof(ExecProcess), "exec")]
[JsonDerivedType(typeof(SignalProcess), "signal")]
[JsonDerivedType(typeof(ResizeTerminal), "resize")]
[JsonDerivedType(typeof(GetStats), "stats")]
[JsonDerivedType(typeof(UpdateResources), "update")]
[JsonDerivedType(typeof(FreezeContainer), "freeze")]
[JsonDerivedType(typeof(ProcessExited), "exited")]
[JsonDerivedType(typeof(OomKilled), "oom")]
[JsonDerivedType(typeof(Shutdown), "shutdown")]
[JsonDerivedType(typeof(ConfigureNetwork), "network")]
[JsonDerivedType(typeof(DnsQuery), "dnsQuery")]
[JsonDerivedType(typeof(DnsAnswer), "dnsAnswer")]
public abstract record Message
{
    public long Id { get; init; }
}
