using System.Text.Json;

namespace NativeTransformer.Models;

/// <summary>
/// A classifier kept beside a bare encoder in a folder <c>2_Dense_classifier/</c> (the convention of the T5 encoder folders
/// this project tests with, e.g. t5-encoder-mini-sst2): shaped like a sentence-transformers Dense module (config.json:
/// in_features, out_features, bias, activation_function Identity, and id2label; model.safetensors: linear.weight [C, H],
/// linear.bias [C]) and read as logits = linear(mean over the attention-masked tokens of the last hidden state). It is not
/// listed in modules.json, so it never enters the sentence embedding. A checkpoint with its own classifier ignores it.
/// </summary>
internal static class PooledClassifierFolder
{
    public const string FolderName = "2_Dense_classifier";

    /// <summary><paramref name="heads"/> with the folder's classifier attached, and the config with its id2label when
    /// config.json names none; both unchanged when there is no such folder or the checkpoint has a classifier.</summary>
    public static (ModelConfig, HeadWeights) Attach(string directory, ModelConfig config, HeadWeights heads)
    {
        string configPath = Path.Combine(directory, FolderName, "config.json");
        if (heads.Classifier is not null || heads.TokenClassifier is not null || !File.Exists(configPath)) return (config, heads);
        var module = DenseModuleConfig.Load(directory, FolderName);
        if (module.InFeatures != config.HiddenSize)
            throw new ModelConfigException($"{configPath}: in_features is {module.InFeatures} but the mean-pooled hidden state has {config.HiddenSize} values");
        if (module.Activation != DenseActivation.Identity)
            throw new ModelConfigException($"{configPath}: activation_function must be Identity for a classifier (logits are the linear output)");
        var labels = Labels(configPath, module.OutFeatures);
        var layer = DenseLayer.Load(module);
        var classifier = new LinearWeights($"{FolderName}/linear", layer.Weight, layer.Bias ?? new float[module.OutFeatures], module.OutFeatures, module.InFeatures);
        return (config.Id2Label.Count == 0 ? config with { Id2Label = labels } : config, heads with { Classifier = classifier, MeanPooledClassifier = true });
    }

    /// <summary>id2label of the classifier's config.json (optional), checked against out_features.</summary>
    private static Dictionary<int, string> Labels(string path, int classes)
    {
        var labels = new Dictionary<int, string>();
        using var doc = SentenceTransformersConfig.Parse(path);
        if (!doc.RootElement.TryGetProperty("id2label", out var map)) return labels;
        if (map.ValueKind != JsonValueKind.Object) throw new ModelConfigException($"{path}: id2label must be an object");
        foreach (var p in map.EnumerateObject())
        {
            if (!int.TryParse(p.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) || id >= classes)
                throw new ModelConfigException($"{path}: id2label key \"{p.Name}\" is not a class index in 0..{classes - 1}");
            if (p.Value.ValueKind != JsonValueKind.String) throw new ModelConfigException($"{path}: id2label[\"{p.Name}\"] must be a string");
            labels[id] = p.Value.GetString()!;
        }
        return labels;
    }
}
