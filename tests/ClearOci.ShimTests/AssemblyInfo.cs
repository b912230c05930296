// Each fixture owns one private containerd; fixtures run one after the other (VMs are costly here).
[assembly: NUnit.Framework.Parallelizable(NUnit.Framework.ParallelScope.None)]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
