using System.Text;
using NativeTransformer.Cli;

// ntr entry point: wire the console streams (UTF-8, no BOM) to CliApp and return its exit code.
// stdin is handed over as a StreamReader so commands can read its raw bytes as strict UTF-8.
var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
var stderr = new StreamWriter(Console.OpenStandardError(), utf8) { AutoFlush = true, NewLine = "\n" };
// The x86-64-v3 AOT ntr hands over to its x86-64-v4 sibling on AVX-512 machines (IsaLauncher, docs/aot.md).
if (IsaLauncher.TryRunAvx512Sibling(args, stderr) is int siblingCode) return siblingCode;
using var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false, throwOnInvalidBytes: true), false, 1 << 16);
var stdout = new StreamWriter(Console.OpenStandardOutput(), utf8, 1 << 16) { AutoFlush = false, NewLine = "\n" };
int code = CliApp.Run(args, stdin, stdout, stderr, stderrIsTerminal: !Console.IsErrorRedirected);
try { stdout.Flush(); } catch (IOException) { }
return code;
