namespace Sair.Client;

/// <summary>What <c>sair</c> returns; the same table is in <c>--help</c> and docs/cli.md.</summary>
public static class ExitCodes
{
    /// <summary>Everything asked for was done.</summary>
    public const int Success = 0;

    /// <summary>Some photos were restored, others were refused or failed (each reason is in report.json).</summary>
    public const int Partial = 1;

    /// <summary>Nothing was restored, a training job failed or was cancelled, or the grid could not be reached.</summary>
    public const int Failure = 2;

    /// <summary>The command line itself is wrong (unknown option, invalid value): nothing was started.</summary>
    public const int Usage = 64;

    /// <summary>
    /// Interrupted with Ctrl+C. Albums already submitted keep running on the grid; an attached training job is cancelled
    /// (its checkpoint kept, so the same command resumes it).
    /// </summary>
    public const int Interrupted = 130;

    /// <summary>0 when every item succeeded, 1 when some did, 2 when none did (or there was nothing to do).</summary>
    public static int FromCounts(int succeeded, int total) =>
        total > 0 && succeeded == total ? Success : succeeded > 0 ? Partial : Failure;
}
