using System.Globalization;
using System.Text.Json;
using NativeTransformer.Weights;

namespace NativeTransformer.Training.Loop;

/// <summary>Where the loop is: completed updates, the epoch and batch within it, and the shuffling generator's state at
/// the epoch's start (the epoch's order is re-derived from it) and now.</summary>
public sealed record TrainerPosition(int Step, int Epoch, int BatchInEpoch, ulong EpochRngState, ulong RngState, long Examples);

/// <summary>
/// A resumable training state in one folder: <c>weights.safetensors</c> (every parameter, F32, checkpoint names),
/// <c>optimizer.safetensors</c> (<c>m.NAME</c>, <c>v.NAME</c>), <c>state.json</c> (position, the settings that must match
/// on resume). Written into <c>DIR.tmp</c> and swapped in by renames, so an interruption leaves either the old or the new
/// checkpoint complete (a left-over <c>DIR.old</c> is used when <c>DIR</c> is missing).
/// </summary>
public static class TrainingCheckpoint
{
    public const string WeightsFile = "weights.safetensors", OptimizerFile = "optimizer.safetensors", StateFile = "state.json";

    public static void Save(string dir, ParameterSet parameters, AdamW optimizer, TrainerPosition position, string fingerprint)
    {
        string tmp = dir + ".tmp", old = dir + ".old";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        SafetensorsWriter.Write(Path.Combine(tmp, WeightsFile),
            parameters.All.Select(p => TensorToWrite.FromFloat32(p.Name, p.Shape, p.Values)).ToList(), new Dictionary<string, string> { ["format"] = "pt" });
        var moments = new List<TensorToWrite>();
        foreach (var p in parameters.All)
            if (optimizer.State.TryGetValue(p.Name, out var s))
            {
                moments.Add(TensorToWrite.FromFloat32("m." + p.Name, p.Shape, s.M));
                moments.Add(TensorToWrite.FromFloat32("v." + p.Name, p.Shape, s.V));
            }
        SafetensorsWriter.Write(Path.Combine(tmp, OptimizerFile), moments, new Dictionary<string, string>());
        using (var stream = File.Create(Path.Combine(tmp, StateFile)))
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("step", position.Step);
            w.WriteNumber("epoch", position.Epoch);
            w.WriteNumber("batch_in_epoch", position.BatchInEpoch);
            w.WriteString("epoch_rng_state", position.EpochRngState.ToString(CultureInfo.InvariantCulture));
            w.WriteString("rng_state", position.RngState.ToString(CultureInfo.InvariantCulture));
            w.WriteNumber("examples", position.Examples);
            w.WriteNumber("optimizer_step", optimizer.Step);
            w.WriteString("fingerprint", fingerprint);
            w.WriteEndObject();
        }
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        if (Directory.Exists(dir)) Directory.Move(dir, old);
        Directory.Move(tmp, dir);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }

    /// <summary>True when <paramref name="dir"/> (or its left-over <c>.old</c>) holds a checkpoint.</summary>
    public static bool Exists(string dir) => File.Exists(Path.Combine(Resolve(dir), StateFile));

    private static string Resolve(string dir) => Directory.Exists(dir) || !Directory.Exists(dir + ".old") ? dir : dir + ".old";

    /// <summary>Loads a checkpoint into <paramref name="parameters"/> and <paramref name="optimizer"/>; refuses one made with other settings.</summary>
    public static TrainerPosition Load(string dir, ParameterSet parameters, AdamW optimizer, string fingerprint)
    {
        dir = Resolve(dir);
        string statePath = Path.Combine(dir, StateFile);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(statePath)); }
        catch (JsonException e) { throw new InputException($"{statePath}: not a valid checkpoint state: {e.Message}", e); }
        TrainerPosition position;
        using (doc)
        {
            var r = doc.RootElement;
            try
            {
                string saved = r.GetProperty("fingerprint").GetString() ?? "";
                if (saved != fingerprint)
                    throw new InputException($"{statePath}: the checkpoint was made with other settings ({saved}); this run has ({fingerprint})");
                position = new TrainerPosition(r.GetProperty("step").GetInt32(), r.GetProperty("epoch").GetInt32(), r.GetProperty("batch_in_epoch").GetInt32(),
                    ulong.Parse(r.GetProperty("epoch_rng_state").GetString()!, CultureInfo.InvariantCulture),
                    ulong.Parse(r.GetProperty("rng_state").GetString()!, CultureInfo.InvariantCulture), r.GetProperty("examples").GetInt64());
                optimizer.Step = r.GetProperty("optimizer_step").GetInt32();
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new InputException($"{statePath}: incomplete checkpoint state: {e.Message}", e);
            }
        }
        using (var weights = SafetensorsFile.Open(Path.Combine(dir, WeightsFile)))
            foreach (var p in parameters.All) Read(weights, p.Name, p.Values);
        using (var moments = SafetensorsFile.Open(Path.Combine(dir, OptimizerFile)))
        {
            optimizer.State.Clear();
            foreach (var p in parameters.All)
            {
                if (!moments.TryGetInfo("m." + p.Name, out _)) continue;
                var s = (new float[p.Values.Length], new float[p.Values.Length]);
                Read(moments, "m." + p.Name, s.Item1);
                Read(moments, "v." + p.Name, s.Item2);
                optimizer.State[p.Name] = s;
            }
        }
        return position;
    }

    private static void Read(SafetensorsFile file, string name, float[] into)
    {
        if (!file.TryGetInfo(name, out var info) || info.DType != DType.F32 || info.Shape.Aggregate(1L, (a, b) => a * b) != into.Length)
            throw new WeightException(name, $"checkpoint: tensor '{name}' is missing or has the wrong shape / dtype");
        file.GetFloat32(name).Span.CopyTo(into);
    }
}
