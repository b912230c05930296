using System.CommandLine;
using ClearOci.Client;
using ClearOci.Native;

namespace ClearOci.Cli;

/// <summary>`spec` and `features`: documents about containers, no container involved.</summary>
internal static class SpecVerbs
{
    public static Command Spec()
    {
        var bundle = new Option<string>("--bundle", "-b") { Description = "directory to write config.json into", DefaultValueFactory = _ => "." };
        var rootless = new Option<bool>("--rootless") { Description = "accepted; ClearOci runs as root" };
        var cmd = new Command("spec", "write a default config.json") { bundle, rootless };
        cmd.SetAction((p, ct) => App.Execute(p, () =>
        {
            DefaultSpec.Write(p.GetValue(bundle)!);
            return Task.FromResult(0);
        }));
        return cmd;
    }

    public static Command Features()
    {
        var cmd = new Command("features", "print what this runtime supports (OCI features JSON)");
        cmd.SetAction((p, ct) => App.Execute(p, () =>
        {
            StandardStreams.Out.WriteLine(ClearOci.Client.Features.Build().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return Task.FromResult(0);
        }));
        return cmd;
    }
}
