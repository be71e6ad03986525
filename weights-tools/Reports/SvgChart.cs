using System.Globalization;
using System.Security;
using System.Text;

namespace NativeTransformer.WeightsTools.Reports;

/// <summary>One named series of a chart: points, drawn as a line through them (in x order) or as markers only.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, bool Line);

/// <summary>
/// A small self-contained SVG chart writer (no dependencies, no scripts): axes with "nice" ticks, axis labels, a
/// title, a legend, and one colour per series. Enough for sweep plots that open in any browser and render on GitHub.
/// </summary>
public sealed class SvgChart
{
    private const int Width = 720, Height = 440, Left = 70, Right = 190, Top = 40, Bottom = 56;
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    public required string Title { get; init; }
    public required string XLabel { get; init; }
    public required string YLabel { get; init; }
    public List<ChartSeries> Series { get; } = [];

    public string Render()
    {
        var all = Series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var (x0, x1, xStep) = NiceRange(all.Select(p => p.X));
        var (y0, y1, yStep) = NiceRange(all.Select(p => p.Y));
        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double Sx(double x) => Left + (x - x0) / (x1 - x0) * plotW;
        double Sy(double y) => Top + plotH - (y - y0) / (y1 - y0) * plotH;

        var svg = new StringBuilder();
        svg.Append(F($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(F($"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n"));
        svg.Append(F($"<text x=\"{Left + plotW / 2:0.#}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Esc(Title)}</text>\n"));
        // Grid and ticks.
        for (double t = x0; t <= x1 + xStep / 2; t += xStep)
        {
            double x = Sx(t);
            svg.Append(F($"<line x1=\"{x:0.##}\" y1=\"{Top}\" x2=\"{x:0.##}\" y2=\"{Top + plotH}\" stroke=\"#e5e5e5\"/>\n"));
            svg.Append(F($"<text x=\"{x:0.##}\" y=\"{Top + plotH + 16}\" text-anchor=\"middle\">{Esc(Tick(t, xStep))}</text>\n"));
        }
        for (double t = y0; t <= y1 + yStep / 2; t += yStep)
        {
            double y = Sy(t);
            svg.Append(F($"<line x1=\"{Left}\" y1=\"{y:0.##}\" x2=\"{Left + plotW}\" y2=\"{y:0.##}\" stroke=\"#e5e5e5\"/>\n"));
            svg.Append(F($"<text x=\"{Left - 6}\" y=\"{y + 4:0.##}\" text-anchor=\"end\">{Esc(Tick(t, yStep))}</text>\n"));
        }
        svg.Append(F($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"black\"/>\n"));
        svg.Append(F($"<text x=\"{Left + plotW / 2:0.#}\" y=\"{Height - 14}\" text-anchor=\"middle\">{Esc(XLabel)}</text>\n"));
        svg.Append(F($"<text x=\"18\" y=\"{Top + plotH / 2:0.#}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {Top + plotH / 2:0.#})\">{Esc(YLabel)}</text>\n"));

        for (int i = 0; i < Series.Count; i++)
        {
            var s = Series[i];
            string color = Colors[i % Colors.Length];
            var points = s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
            svg.Append(F($"<g class=\"series\" data-name=\"{Esc(s.Name)}\">\n"));
            if (s.Line && points.Count > 1)
            {
                string path = string.Join(" ", points.OrderBy(p => p.X).Select(p => F($"{Sx(p.X):0.##},{Sy(p.Y):0.##}")));
                svg.Append(F($"<polyline points=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>\n"));
            }
            foreach (var p in points)
                svg.Append(F($"<circle cx=\"{Sx(p.X):0.##}\" cy=\"{Sy(p.Y):0.##}\" r=\"4\" fill=\"{color}\" data-x=\"{p.X:R}\" data-y=\"{p.Y:R}\"><title>{Esc(s.Name)}: ({p.X:G6}, {p.Y:G6})</title></circle>\n"));
            svg.Append("</g>\n");
            // Legend entry.
            double ly = Top + 10 + i * 18;
            svg.Append(F($"<rect x=\"{Width - Right + 14}\" y=\"{ly - 8:0.#}\" width=\"12\" height=\"12\" fill=\"{color}\"/>\n"));
            svg.Append(F($"<text x=\"{Width - Right + 32}\" y=\"{ly + 2:0.#}\">{Esc(s.Name)}</text>\n"));
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    public void Save(string path) => File.WriteAllText(path, Render(), new UTF8Encoding(false));

    /// <summary>An axis range that starts and ends on a tick of a 1/2/5 × 10^k step, with about 5 intervals.</summary>
    public static (double Min, double Max, double Step) NiceRange(IEnumerable<double> values)
    {
        var v = values.ToList();
        double min = v.Count == 0 ? 0 : v.Min(), max = v.Count == 0 ? 1 : v.Max();
        if (max - min < 1e-12) { double pad = Math.Abs(min) > 1e-12 ? Math.Abs(min) * 0.1 : 1; min -= pad; max += pad; }
        double raw = (max - min) / 5, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        return (Math.Floor(min / step) * step, Math.Ceiling(max / step) * step, step);
    }

    private static string Tick(double t, double step)
    {
        int decimals = Math.Max(0, (int)-Math.Floor(Math.Log10(step) + 1e-9));
        return Math.Round(t, decimals).ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    private static string Esc(string s) => SecurityElement.Escape(s) ?? "";

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
