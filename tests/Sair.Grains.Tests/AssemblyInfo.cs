// The cluster tests time background loops on a small shared machine: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
