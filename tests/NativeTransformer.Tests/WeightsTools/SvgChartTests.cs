using System.Globalization;
using System.Xml.Linq;
using NativeTransformer.WeightsTools.Reports;

namespace NativeTransformer.Tests.WeightsTools;

public class SvgChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void OutputIsWellFormedSvgWithEveryPointAndLegend()
    {
        var chart = new SvgChart { Title = "acc <vs> sparsity & more", XLabel = "sparsity", YLabel = "accuracy (%)" };
        chart.Series.Add(new ChartSeries("fp32", [(0, 81.19), (0.5, 80.5), (0.9, 60.25)], Line: true));
        chart.Series.Add(new ChartSeries("int8 \"q\" & <drop>", [(0.1, 79)], Line: false));
        var doc = XDocument.Parse(chart.Render());

        Assert.Equal(Svg + "svg", doc.Root!.Name);
        var circles = doc.Descendants(Svg + "circle").ToList();
        Assert.Equal(4, circles.Count);
        var points = circles.Select(c => (double.Parse(c.Attribute("data-x")!.Value, CultureInfo.InvariantCulture),
            double.Parse(c.Attribute("data-y")!.Value, CultureInfo.InvariantCulture))).ToList();
        Assert.Equal([(0, 81.19), (0.5, 80.5), (0.9, 60.25), (0.1, 79)], points);
        // One polyline (the line series; a marker-only series has none), and the legend names the series.
        Assert.Single(doc.Descendants(Svg + "polyline"));
        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("fp32", texts);
        Assert.Contains("int8 \"q\" & <drop>", texts);
        Assert.Contains("acc <vs> sparsity & more", texts);
        Assert.Contains("accuracy (%)", texts);
    }

    [Fact]
    public void PointsAreInsideThePlotAreaAndOrderedByValue()
    {
        var chart = new SvgChart { Title = "t", XLabel = "x", YLabel = "y" };
        chart.Series.Add(new ChartSeries("s", [(1, 10), (2, 30), (3, 20)], Line: false));
        var doc = XDocument.Parse(chart.Render());
        var frame = doc.Descendants(Svg + "rect").Single(r => r.Attribute("fill")!.Value == "none");
        double fx = D(frame, "x"), fy = D(frame, "y"), fw = D(frame, "width"), fh = D(frame, "height");
        var c = doc.Descendants(Svg + "circle").ToList();
        Assert.All(c, e => { Assert.InRange(D(e, "cx"), fx, fx + fw); Assert.InRange(D(e, "cy"), fy, fy + fh); });
        Assert.True(D(c[0], "cx") < D(c[1], "cx") && D(c[1], "cx") < D(c[2], "cx"));
        Assert.True(D(c[1], "cy") < D(c[2], "cy") && D(c[2], "cy") < D(c[0], "cy")); // SVG y grows downwards
    }

    [Theory]
    [InlineData(new[] { 0.0, 0.9 }, 0.0, 1.0, 0.2)]
    [InlineData(new[] { 61.3, 81.19 }, 60.0, 85.0, 5.0)]
    [InlineData(new[] { 0.0, 0.0 }, -1.0, 1.0, 0.5)]
    public void NiceRangesEndOnTicks(double[] values, double min, double max, double step)
    {
        var (a, b, s) = SvgChart.NiceRange(values);
        Assert.Equal(min, a, 9);
        Assert.Equal(max, b, 9);
        Assert.Equal(step, s, 9);
    }

    private static double D(XElement e, string name) => double.Parse(e.Attribute(name)!.Value, CultureInfo.InvariantCulture);
}
