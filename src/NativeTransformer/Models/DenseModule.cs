using System.Numerics.Tensors;
using System.Text.Json;
using NativeTransformer.Kernels;
using NativeTransformer.Weights;

namespace NativeTransformer.Models;

/// <summary>Activation of a sentence-transformers Dense module (the last component of its torch class name).</summary>
public enum DenseActivation { Identity, Tanh, ReLU, Sigmoid, Gelu }

/// <summary>
/// A sentence-transformers <c>models.Dense</c> module as its folder describes it (<c>config.json</c>: in_features,
/// out_features, bias, activation_function). The weights (<c>model.safetensors</c>: linear.weight [out, in],
/// linear.bias [out]) are read by <see cref="DenseLayer.Load"/> when the model loads.
/// </summary>
public sealed record DenseModuleConfig(string Directory, int InFeatures, int OutFeatures, bool Bias, DenseActivation Activation)
{
    internal static DenseModuleConfig Load(string modelDirectory, string modulePath)
    {
        string dir = Path.Combine(modelDirectory, modulePath);
        string path = Path.Combine(dir, "config.json");
        if (!File.Exists(path)) throw new ModelConfigException($"{path}: missing (modules.json lists a Dense module at \"{modulePath}\")");
        using var doc = SentenceTransformersConfig.Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ModelConfigException($"{path}: expected a JSON object");
        int Features(string key) =>
            root.TryGetProperty(key, out var v) && v.TryGetInt32(out int n) && n > 0 ? n
                : throw new ModelConfigException($"{path}: '{key}' must be a positive integer");
        bool bias = !root.TryGetProperty("bias", out var b) || b.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ModelConfigException($"{path}: 'bias' must be true or false"),
        };
        string act = root.TryGetProperty("activation_function", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : "torch.nn.modules.activation.Tanh";
        // sentence-transformers stores the activation's full torch class name, e.g. torch.nn.modules.linear.Identity or torch.nn.Tanh.
        var activation = act[(act.LastIndexOf('.') + 1)..] switch
        {
            "Identity" => DenseActivation.Identity,
            "Tanh" => DenseActivation.Tanh,
            "ReLU" => DenseActivation.ReLU,
            "Sigmoid" => DenseActivation.Sigmoid,
            "GELU" => DenseActivation.Gelu,
            _ => throw new ModelConfigException($"{path}: activation_function '{act}' is not supported (Identity, Tanh, ReLU, Sigmoid, GELU)"),
        };
        return new DenseModuleConfig(dir, Features("in_features"), Features("out_features"), bias, activation);
    }
}

/// <summary>A loaded Dense module: y = activation(W·x + b) on each pooled embedding. The weights are copied out of the
/// file (a few hundred KB at most), so the layer owns no mapping.</summary>
internal sealed class DenseLayer(DenseModuleConfig config, float[] weight, float[]? bias)
{
    public int In => config.InFeatures;
    public int Out => config.OutFeatures;
    public float[] Weight => weight; // [Out, In]
    public float[]? Bias => bias;

    public static DenseLayer Load(DenseModuleConfig c)
    {
        string path = Path.Combine(c.Directory, "model.safetensors");
        if (!File.Exists(path))
        {
            string bin = Path.Combine(c.Directory, "pytorch_model.bin");
            throw File.Exists(bin)
                ? new WeightException("linear.weight", $"{bin}: PyTorch pickle weights are not read; convert the Dense module to {path} (keys linear.weight, linear.bias)")
                : new WeightException("linear.weight", $"{path}: missing (the Dense module's weights)");
        }
        using var file = SafetensorsFile.Open(path);
        float[] Tensor(string key, long[] shape)
        {
            var info = file.TryGetInfo(key, out var i) ? i : throw new WeightException(key, $"{path}: no tensor '{key}'");
            if (!info.Shape.SequenceEqual(shape))
                throw new WeightException(key, $"{path}: '{key}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", shape)}] (config.json in/out_features)");
            var values = file.GetFloat32(key).ToArray();
            if (NonFinite.Count(values) > 0) throw new WeightException(key, $"{path}: '{key}' holds NaN or infinite values");
            return values;
        }
        var w = Tensor("linear.weight", [c.OutFeatures, c.InFeatures]);
        var b = c.Bias ? Tensor("linear.bias", [c.OutFeatures]) : null;
        return new DenseLayer(c, w, b);
    }

    /// <summary>[rows, In] → [rows, Out].</summary>
    public float[] Apply(ReadOnlySpan<float> input, int rows)
    {
        var output = new float[rows * Out];
        for (int r = 0; r < rows; r++)
        {
            var x = input.Slice(r * In, In);
            var y = output.AsSpan(r * Out, Out);
            for (int o = 0; o < Out; o++) y[o] = TensorPrimitives.Dot(weight.AsSpan(o * In, In), x) + (bias is null ? 0f : bias[o]);
            switch (config.Activation)
            {
                case DenseActivation.Tanh: Activations.Tanh(y); break;
                case DenseActivation.ReLU: Activations.Relu(y); break;
                case DenseActivation.Sigmoid: TensorPrimitives.Sigmoid(y, y); break;
                case DenseActivation.Gelu: Activations.Gelu(y); break;
            }
        }
        return output;
    }
}
