using NativeTransformer.Compression;
using NativeTransformer.Models;

namespace NativeTransformer.WeightsTools.Training;

/// <summary>
/// <c>--student-from-teacher</c>: the student is the teacher reduced by the existing compression transforms — layers
/// dropped (<see cref="LayerDropper"/>, as drop-layers) then magnitude-pruned (<see cref="PruneFolder"/>, as prune,
/// matrix scope) — written to OUTPUT/student-start, which stays as the record of where training began (and is reused
/// when resuming).
/// </summary>
internal static class DistillStudent
{
    public const string FolderName = "student-start";

    public static string Derive(string teacherDir, string output, int[]? keepLayers, int? dropTop, double? prune)
    {
        string start = Path.Combine(output, FolderName);
        if (File.Exists(Path.Combine(start, "config.json")) && File.Exists(Path.Combine(start, "model.safetensors"))) return start;
        if (Directory.Exists(start)) Directory.Delete(start, recursive: true);
        string layered = teacherDir;
        bool dropsLayers = keepLayers is not null || dropTop is not null;
        if (dropsLayers)
        {
            var config = ModelConfig.Load(Path.Combine(teacherDir, "config.json"));
            var kept = LayerSelection.Resolve(config.NumLayers, keepLayers, dropTop)!;
            layered = prune is null ? start : start + ".layers";
            LayerDropper.Drop(teacherDir, layered, kept);
        }
        if (prune is { } s)
        {
            PruneFolder.Run(layered, start, new PruneOptions(s));
            if (dropsLayers) Directory.Delete(layered, recursive: true);
        }
        else if (!dropsLayers) throw new InputException("--student-from-teacher needs --drop-top K, --keep-layers L and/or --prune S");
        return start;
    }
}
