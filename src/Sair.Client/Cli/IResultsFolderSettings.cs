using Sair.Client.Output;

namespace Sair.Client.Cli;

/// <summary>
/// The options of a command that writes a results folder: <c>-o</c>, <c>--upscale</c>, <c>--ext</c>, <c>--suffix</c>
/// (<c>restore</c> and <c>album submit</c> through <c>RestoreSettings</c>, <c>album watch</c> and <c>album results</c>
/// through <c>AlbumOutputSettings</c>). Spectre's settings have one base class and those two descend from different
/// ones (the engine options; the album argument), so each declares the four properties with their help, and what
/// they mean — the layout and every check — is here, once.
/// </summary>
public interface IResultsFolderSettings
{
    string Output { get; }

    double Upscale { get; }

    string Ext { get; }

    string? Suffix { get; }
}

public static class ResultsFolderSettings
{
    /// <summary>How the output folder's files are named and encoded.</summary>
    public static OutputLayout Layout(this IResultsFolderSettings settings) =>
        new(settings.Upscale, settings.Ext, settings.Suffix ?? "");

    /// <summary>What is wrong with the four options as given (layout first, then the folder), or null.</summary>
    public static string? Problem(this IResultsFolderSettings settings) =>
        settings.Layout().Problem()
        ?? (string.IsNullOrWhiteSpace(settings.Output) ? "-o/--output is empty: name a folder for the results."
            : OutputFolder.WriteProblem(settings.Output));
}
