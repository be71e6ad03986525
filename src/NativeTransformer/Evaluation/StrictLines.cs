using System.Text;

namespace NativeTransformer.Evaluation;

/// <summary>
/// Splits a data file into lines as strict UTF-8: lines end at '\n', one trailing '\r' is stripped, a UTF-8 BOM at the
/// start is skipped, a final '\n' does not start another line. Invalid UTF-8 is an <see cref="InputException"/> naming
/// the file and line. (The CLI streams with its own LineReader; evaluation sets are small enough to read whole.)
/// </summary>
public static class StrictLines
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static List<string> ReadFile(string path)
    {
        if (Directory.Exists(path)) throw new InputException($"{path}: is a directory, expected a file");
        if (!File.Exists(path)) throw new InputException($"{path}: file not found");
        return Split(File.ReadAllBytes(path), path);
    }

    public static List<string> Split(byte[] bytes, string source)
    {
        var lines = new List<string>();
        int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        while (start < bytes.Length)
        {
            int nl = Array.IndexOf(bytes, (byte)'\n', start);
            int end = nl < 0 ? bytes.Length : nl;
            int length = end - start;
            if (length > 0 && bytes[start + length - 1] == (byte)'\r') length--;
            try
            {
                lines.Add(Utf8.GetString(bytes, start, length));
            }
            catch (DecoderFallbackException)
            {
                throw new InputException($"{source}: line {lines.Count + 1}: not valid UTF-8");
            }
            start = end + 1;
        }
        return lines;
    }
}
