using ClearOci.Spec;

namespace ClearOci.Client;

/// <summary>
/// A bundle's config with every error a VM would meet later raised now, before anything exists:
/// the config's own, the pod-size annotations', the device rules', and the seccomp profile's
/// (compiled here only to check it; the guest compiles it again to load it, which keeps the agent
/// the one place that loads filters).
/// </summary>
public static class ConfigCheck
{
    public static (OciSpec Spec, string Rootfs) Load(string bundle)
    {
        var config = ConfigLoader.Load(bundle);
        Seccomp.SeccompCompiler.Compile(config.Spec.Linux?.Seccomp);
        PodAnnotations.Limits(config.Spec.Annotations);
        DeviceCgroupRules.For(config.Spec);
        return config;
    }
}
