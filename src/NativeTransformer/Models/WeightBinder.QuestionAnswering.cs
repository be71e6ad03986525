namespace NativeTransformer.Models;

internal sealed partial class WeightBinder
{
    /// <summary>qa_outputs [2, H] when the checkpoint has it. A config whose architectures name a …ForQuestionAnswering
    /// model must have it: without it the folder would load and silently have no answers to give.</summary>
    private LinearWeights? BindQaOutputs()
    {
        string key = _keys.QaOutputs;
        if (Has(key + ".weight")) return Linear(key, 2, config.HiddenSize);
        var qa = config.Architectures.FirstOrDefault(a => a.EndsWith("ForQuestionAnswering", StringComparison.Ordinal));
        if (qa is not null)
            throw new WeightException(key + ".weight", $"{key}.weight: missing; config.json architectures names {qa}, whose head it is");
        return null;
    }
}
