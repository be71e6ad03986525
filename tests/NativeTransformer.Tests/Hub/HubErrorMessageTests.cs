using System.Security.Authentication;
using NativeTransformer.Hub;

namespace NativeTransformer.Tests.Hub;

/// <summary>Network errors name their cause: .NET's TLS failure says only "see inner exception".</summary>
public sealed class HubErrorMessageTests
{
    [Fact]
    public void TlsFailureNamesTheCertificateProblem()
    {
        var e = new HttpRequestException("The SSL connection could not be established, see inner exception.",
            new AuthenticationException("The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot"));
        Assert.Equal("The SSL connection could not be established: The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot",
            HubClient.Reason(e));
    }

    [Fact]
    public void CausesAlreadyInTheMessageAreNotRepeated()
    {
        var e = new HttpRequestException("Connection refused (127.0.0.1:1)", new System.Net.Sockets.SocketException(111));
        string reason = HubClient.Reason(e);
        Assert.StartsWith("Connection refused (127.0.0.1:1)", reason);
        Assert.Equal(1, reason.Split("Connection refused").Length - 1);
    }
}
