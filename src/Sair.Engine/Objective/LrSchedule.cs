namespace Sair.Engine.Objective;

/// <summary>Learning-rate schedules for the Adam optimisation of w.</summary>
internal static class LrSchedule
{
    private const double RampDown = 0.25;
    private const double RampUp = 0.05;

    /// <summary>
    /// The official (rosinality projector) schedule at step <paramref name="step"/> of <paramref name="steps"/>:
    /// t = i/N; r = min(1, (1 − t)/0.25); r = 0.5 − 0.5·cos(π·r); r ·= min(1, t/0.05); lr = base·r.
    /// It is 0 at step 0 by design (the ramp-up starts from zero).
    /// </summary>
    public static double Official(int step, int steps, double baseLr)
    {
        if (steps < 1 || step < 0 || step >= steps)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, $"Step must be in [0, {steps}) and steps at least 1.");
        }
        var t = (double)step / steps;
        var ramp = Math.Min(1, (1 - t) / RampDown);
        ramp = 0.5 - 0.5 * Math.Cos(ramp * Math.PI);
        ramp *= Math.Min(1, t / RampUp);
        return baseLr * ramp;
    }
}
