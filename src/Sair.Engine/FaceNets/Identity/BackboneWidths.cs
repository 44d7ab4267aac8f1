namespace Sair.Engine.FaceNets.Identity;

/// <summary>
/// Channel widths of an ArcFace backbone: the stem and stage 0 have <paramref name="BaseWidth"/> channels, stage i has
/// BaseWidth·2^i, and the head maps the last stage (BaseWidth·8 × 7 × 7) to <paramref name="EmbeddingSize"/>.
/// The released networks use <see cref="Official"/>; narrower widths exist for fast numerical tests.
/// </summary>
public sealed record BackboneWidths(int BaseWidth, int EmbeddingSize)
{
    /// <summary>The four stages of both ResNet-50 layouts.</summary>
    public const int StageCount = 4;

    /// <summary>Side of the last feature map for a 112×112 input (four stride-2 stages).</summary>
    public const int FinalSide = 7;

    /// <summary>The widths of the released irestnet50.pth and model_ir_se50.pth: 64, 128, 256, 512 → 512.</summary>
    public static BackboneWidths Official { get; } = new(64, 512);

    /// <summary>Channels of stage <paramref name="index"/> (0 … 3).</summary>
    public int Stage(int index) => BaseWidth << index;

    /// <summary>Inputs of the head's Linear layer: the last stage flattened channel-major.</summary>
    public int FlattenedFeatures => Stage(StageCount - 1) * FinalSide * FinalSide;

    internal void Validate(int minBaseWidth)
    {
        if (BaseWidth < minBaseWidth || EmbeddingSize < 1)
        {
            throw new ArgumentException(
                $"Backbone widths need a base width ≥ {minBaseWidth} and an embedding size ≥ 1; got base {BaseWidth}, embedding {EmbeddingSize}.");
        }
    }
}
