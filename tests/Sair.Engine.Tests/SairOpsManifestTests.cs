using System.Text.RegularExpressions;

namespace Sair.Engine.Tests;

public sealed class SairOpsManifestTests
{
    // Which test checks each oracle of shared/fixtures/sair-ops/manifest.json. A new oracle in the manifest fails
    // this test until a test for it exists and is listed here.
    private static readonly (string Pattern, string Test)[] Coverage =
    [
        (@"^bicubic_f(4|8|32)_(taps\.npy|taps_list|output\.npy|grad_input\.npy)$", "BicubicDownsampleTests"),
        (@"^jpeg(_sat)?_q(10|50)_(output|grad_input)\.npy$", "DiffJpegTests.Output_and_gradient_match_the_official_DiffJPEG"),
        (@"^jpeg_q(10|50)_factor$", "DiffJpegTests.Quality_maps_to_the_official_factor"),
        (@"^hist_(gen|ref)256\.npy$", "HistogramLossTests.Operands_are_resized_like_the_official_code"),
        (@"^hist_mask(01|255)_(emd|weighted|grad_gen256\.npy)$", "HistogramLossTests.Emd_and_gradient_match_the_official_loss"),
        (@"^geocross_(rand|near|obama)_(value|grad\.npy)$", "LatentTermsTests.GeoCross_value_and_gradient_match_the_official_cross_loss"),
        (@"^emotion_angry_dir\.npy$", "LatentTermsTests.Angry_direction_oracle_is_the_published_file_as_float32"),
        (@"^emotion_(rand|obama)_(value|grad\.npy)$", "LatentTermsTests.Official_emotion_term_matches_run_py"),
        (@"^lr_schedule(_f64)?\.npy$", "LatentTermsTests.Official_lr_schedule_matches_every_step_of_run_py"),
        (@"^norm_(both|onesided)_(output\.npy|grad_input\.npy|min|max)$", "ImageTermsTests.Official_normalisation_matches_run_py"),
        (@"^data_pair_(value|grad_a\.npy)$", "ImageTermsTests.Official_data_term_matches_run_py_including_the_floor"),
        (@"^data_chain_(nojpeg_value|jpeg_value|jpeg_pred\.npy)$", "ImageTermsTests.Data_chain_from_1024_to_32_matches_the_official_values"),
        (@"^idpre_(output|grad_block|grad_rows|grad_cols)\.npy$", "ImageTermsTests.Identity_preprocessing_matches_the_official_input_and_gradient"),
        (@"^interp_(down4|ac112)_(output|grad_input)\.npy$", "ImageTermsTests.Torch_bicubic_interpolation_matches_torch_1_13_in_both_official_calls"),
    ];

    // Oracles deliberately not reproduced, with the reason.
    private static readonly Dictionary<string, string> NotReproduced = new()
    {
        ["hist_mask01_mi_discarded"] = "run.py binds the mutual-information value to '_' and never uses it",
        ["hist_mask255_mi_discarded"] = "run.py binds the mutual-information value to '_' and never uses it (NaN there)",
    };

    [Fact]
    public void Every_oracle_of_the_manifest_is_covered_by_a_test()
    {
        var oracles = SairOpsFixtures.Oracles().ToList();
        Assert.True(oracles.Count > 60, $"only {oracles.Count} oracles read from the manifest");
        var uncovered = oracles
            .Where(name => !NotReproduced.ContainsKey(name) && !Coverage.Any(c => Regex.IsMatch(name, c.Pattern)))
            .ToList();
        Assert.True(uncovered.Count == 0, "Oracles without a test: " + string.Join(", ", uncovered));
    }
}
