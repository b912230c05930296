// One test at a time: this host has 2 cores and every container is a VM under TCG.
[assembly: NonParallelizable]
[assembly: LevelOfParallelism(1)]
