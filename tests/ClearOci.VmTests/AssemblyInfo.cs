// One VM at a time: this host has 2 cores and every VM runs under TCG.
[assembly: NonParallelizable]
[assembly: LevelOfParallelism(1)]
