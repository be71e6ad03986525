namespace NativeTransformer.Tests.Cli;

/// <summary>The CLI smoke cases (<see cref="CliSmokeCases"/>) run in-process through CliApp, as `dotnet run` runs them.
/// Without --model they use the built-in model, extracted into the user's cache folder like the real ntr does.</summary>
public class CliSmokeTests
{
    [Theory]
    [MemberData(nameof(CliSmokeCases.Names), MemberType = typeof(CliSmokeCases))]
    public void InProcess(string name)
    {
        var c = CliSmokeCases.Get(name);
        var r = CliRunner.RunWithStdin(CliSmokeCases.StdinOf(c), c.Args);
        CliSmokeCases.Verify(c, new SmokeOutput(r.ExitCode, r.Stdout, r.Stderr));
    }
}
