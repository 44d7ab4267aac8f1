using System.Reflection;
using Sair.Engine.Restoration;
using Sair.Engine.Restoration.Terms;

namespace Sair.Engine.Tests.Restoration;

/// <summary>Each loss term declares itself once (name, weight, fingerprint), and the restorer and options read only that.</summary>
public sealed class LossTermTests
{
    private static readonly string[] ReportNames = typeof(LossTerms).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (string)f.GetRawConstantValue()!).ToArray();

    [Fact]
    public void Every_report_name_belongs_to_exactly_one_term()
    {
        Assert.Equal(ReportNames.Order(), LossTerm.All.Select(t => t.Name).Order());
    }

    [Fact]
    public void Each_term_weighs_itself_with_the_option_it_names_and_a_change_of_it_changes_the_fingerprint()
    {
        foreach (var options in new[] { SairOptions.Paper(), SairOptions.Official(), SairOptions.PaperPivotalTuned() })
        {
            foreach (var term in LossTerm.All)
            {
                var property = typeof(SairOptions).GetProperty(term.WeightOption)!;
                Assert.Equal((double)property.GetValue(options)!, term.Weight(options));

                // A copy with only this weight changed: another fingerprint (a checkpoint of one does not resume the other).
                var changed = options with { };
                property.SetValue(changed, term.Weight(options) + 0.25);
                Assert.Equal(term.Weight(options) + 0.25, term.Weight(changed));
                Assert.NotEqual(options.Fingerprint(), changed.Fingerprint());
                Assert.Contains(term.Weight(options), term.Fingerprint(options));
            }
        }
    }

    [Fact]
    public void A_negative_weight_is_refused_naming_its_option()
    {
        foreach (var term in LossTerm.All)
        {
            var options = SairOptions.Paper() with { };
            typeof(SairOptions).GetProperty(term.WeightOption)!.SetValue(options, -1.0);

            var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

            Assert.Equal(term.WeightOption, error.ParamName);
        }
    }
}
