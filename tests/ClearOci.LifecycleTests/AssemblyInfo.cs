// One test at a time: this host has 2 cores and every VM runs under TCG; the parallel-create
// test makes its own concurrency.
[assembly: NonParallelizable]
[assembly: LevelOfParallelism(1)]
