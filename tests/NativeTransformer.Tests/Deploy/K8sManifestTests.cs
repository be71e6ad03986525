namespace NativeTransformer.Tests.Deploy;

/// <summary>deploy/k8s/ parses as Kubernetes objects and passes yamllint. `kubectl apply --dry-run=client` needs an API
/// server for discovery; `kubectl label --local` decodes the same files offline (a missing kind or bad YAML fails).</summary>
public class K8sManifestTests
{
    private static readonly string Dir = Path.Combine(TestPaths.RepoRoot, "deploy", "k8s");

    [ToolFact("kubectl")]
    public void ManifestsDecodeAsTheExpectedObjects()
    {
        var (code, output) = ExternalTool.Run("kubectl", 30_000, "label", "--local", "-f", Dir, "checked=yes", "--dry-run=client", "-o", "name");
        Assert.True(code == 0, output);
        foreach (var name in new[] { "deployment.apps/ntr-serve", "service/ntr-serve", "horizontalpodautoscaler.autoscaling/ntr-serve",
                     "job.batch/ntr-embed", "job.batch/ntr-embed-merge", "persistentvolumeclaim/ntr-models", "persistentvolumeclaim/ntr-corpus" })
            Assert.Contains(name, output);
    }

    [ToolFact("yamllint")]
    public void ManifestsPassYamllint()
    {
        var (code, output) = ExternalTool.Run("yamllint", 30_000, "-s", "-c", Path.Combine(Dir, ".yamllint"), Dir);
        Assert.True(code == 0, output);
    }
}
