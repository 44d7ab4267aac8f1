// The grid tests share one in-process cluster and time background loops on a small machine: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
