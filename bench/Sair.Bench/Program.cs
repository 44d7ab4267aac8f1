using Sair.Bench;

// Benchmarks for SairGrid. Each prints a Markdown table to paste into docs/benchmarks.md, with the exact command.
//   dotnet run -c Release --project bench/Sair.Bench -- generator [--sizes 256,1024] [--batches 1,4] [--runs 3]
//   dotnet run -c Release --project bench/Sair.Bench -- facenets [--runs 5] [--threads N] [--device cpu|cuda] [--models DIR]
//   dotnet run -c Release --project bench/Sair.Bench -- sair [--sizes 256,1024] [--runs 3]
//   dotnet run -c Release --project bench/Sair.Bench -- loss-side [--sizes 1024] [--loss-sides 512,256,128] [--runs 3]
//   dotnet run -c Release --project bench/Sair.Bench -- training [--sizes 32,64] [--batch 16] [--runs 3] [--modes scaled,grouped]
//   dotnet run -c Release --project bench/Sair.Bench -- album [--engines 1,2] [--batches 1] [--photos 12] [--iterations 20] [--threads 1]
//   dotnet run -c Release --project bench/Sair.Bench -- kernels [--sizes 256,1024] [--runs 3] [--rounds 1] [--configurations default,avx2,sse41,no-onednn]
//   dotnet run -c Release --project bench/Sair.Bench -- quality [--set johns|lfw-holdout] [--n 10] [--iterations 400] [--tasks x4,x2jpeg30] [--generator embedded] [--out DIR]
//   dotnet run -c Release --project bench/Sair.Bench -- match [--identity-net faceapi|faceres] [--sets johns,lfw-holdout]
//   dotnet run -c Release --project bench/Sair.Bench -- batch [--sizes 64,256] [--batches 1,2,4,8] [--steps64 40] [--steps256 3]
//   dotnet run -c Release --project bench/Sair.Bench -- jobs [--jobs 100] [--iterations 20] [--long 400]
//   dotnet run -c Release --project bench/Sair.Bench -- ratios [--write docs/benchmarks.md] [--batches 1,2,4,8] [--engines 1,2] [--steps64 40] [--steps256 3] [--reference-code DIR (a rosinality/stylegan2-pytorch checkout)] [--python /usr/bin/python3]
//   dotnet run -c Release --project bench/Sair.Bench -- photo-memory [--megapixels 40] [--photo FILE] [--photos-to DIR]
//   dotnet run -c Release --project bench/Sair.Bench -- soak [--photos 200] [--engines 2] [--iterations 6] [--kill-every-s 20] [--down-s 5] [--storage-down-s 15] [--seed 1]
// Every mode goes through the CPU kernel guard (Sair__Engine__CpuKernels, default auto) and prints its decision.
return args.FirstOrDefault() switch
{
    "generator" => GeneratorBench.Run(BenchArgs.Parse(args[1..])),
    "facenets" => FaceNetsBench.Run(BenchArgs.Parse(args[1..])),
    "sair" => SairIterationBench.Run(BenchArgs.Parse(args[1..])),
    "loss-side" => LossSideBench.Run(BenchArgs.Parse(args[1..])),
    "training" => TrainingBench.Run(BenchArgs.Parse(args[1..])),
    "album" => AlbumBench.Run(BenchArgs.Parse(args[1..])),
    "kernels" => KernelsBench.Run(BenchArgs.Parse(args[1..])),
    "quality" => QualityBench.Run(BenchArgs.Parse(args[1..])),
    "match" => MatchBench.Run(BenchArgs.Parse(args[1..])),
    "batch" => BatchBench.Run(BenchArgs.Parse(args[1..])),
    "jobs" => JobsBench.Run(BenchArgs.Parse(args[1..])),
    "ratios" => RatiosBench.Run(BenchArgs.Parse(args[1..])),
    "soak" => SoakBench.Run(BenchArgs.Parse(args[1..])),
    "photo-memory" => PhotoMemoryBench.Run(BenchArgs.Parse(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Sair.Bench generator [--sizes 256,1024] [--batches 1,4] [--runs 3] [--threads N] [--mode scaled|grouped]");
    Console.Error.WriteLine("       Sair.Bench facenets [--runs 5] [--threads N] [--device cpu|cuda] [--models DIR]");
    Console.Error.WriteLine("       Sair.Bench sair [--sizes 256,1024] [--runs 3] [--threads N]");
    Console.Error.WriteLine("       Sair.Bench loss-side [--sizes 1024] [--loss-sides 512,256,128] [--runs 3] [--threads N]");
    Console.Error.WriteLine("       Sair.Bench training [--sizes 32,64] [--batch 16] [--runs 3] [--threads N] [--modes scaled,grouped]");
    Console.Error.WriteLine("       Sair.Bench kernels [--sizes 256,1024] [--runs 3] [--rounds 1] [--threads N] [--configurations default,avx2,sse41,no-onednn]");
    Console.Error.WriteLine("       Sair.Bench album [--engines 1,2] [--batches 1] [--photos 12] [--iterations 20] [--projection 10] [--threads 1] [--input 16] [--generator G.pt] [--timeout-min 30]");
    Console.Error.WriteLine("       Sair.Bench quality [--set johns|lfw-holdout] [--n 10] [--iterations 400] [--projection 200] [--tasks x4,x2jpeg30] [--seed 0]");
    Console.Error.WriteLine("                          [--generator embedded|G.pt [--template template.json] [--emotions DIR]] [--device auto] [--threads N] [--panel 128] [--out DIR]");
    Console.Error.WriteLine("                          [--preset paper-pti|paper|paper-bp|official] [--variants ref,noid,wrong,refphoto] [--lr X] [--emotion-weight X] [--geocross X] [--noise fixed|random|zero]");
    Console.Error.WriteLine("                          [--latent-prior X] [--truncation PSI] [--batch B] [--identity-every K] [--loss-side S [--full-last K]] [--backproject K] [--pti STEPS [--pti-lr X] [--pti-id X]]");
    Console.Error.WriteLine("       Sair.Bench photo-memory [--megapixels 40] [--photo FILE] [--photos-to DIR] [--threads N]");
    Console.Error.WriteLine("       Sair.Bench soak [--photos 200] [--engines 2] [--iterations 6] [--kill-every-s 20] [--down-s 5] [--storage-down-s 15] [--seed 1] [--timeout-min 60]");
    Console.Error.WriteLine("       Sair.Bench match [--identity-net faceapi|faceres] [--sets johns,lfw-holdout] [--device cpu] [--threads N]");
    Console.Error.WriteLine("       Sair.Bench batch [--sizes 64,256] [--batches 1,2,4,8] [--steps64 40] [--steps256 3] [--stage data|identity|histogram|all] [--identity-every K] [--threads N]");
    Console.Error.WriteLine("       Sair.Bench jobs [--jobs 100] [--iterations 20] [--long 400] [--threads N]");
    Console.Error.WriteLine("       Sair.Bench ratios [--write docs/benchmarks.md] [--batches 1,2,4,8] [--engines 1,2 (0: none)] [--steps64 40] [--steps256 3] [--runs 3] [--reference-code DIR] [--python /usr/bin/python3]");
    Console.Error.WriteLine("                         [--photos 12] [--iterations 20] [--silo-threads 1] [--threads N]");
    return 2;
}
