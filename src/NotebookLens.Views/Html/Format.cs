using System.Globalization;

namespace NotebookLens.Views.Html;

/// <summary>Numbers as the views print them: invariant culture, so a German notebook shows the same digits as the CLI.</summary>
public static class Format
{
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Fixed decimals (<c>0.1235</c>).</summary>
    public static string Fixed(double value, int decimals = 4) => value.ToString("F" + decimals, Invariant);

    /// <summary>Four significant digits, switching to exponent form for very small or large magnitudes.</summary>
    public static string Number(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value)) return value.ToString(Invariant);
        double magnitude = Math.Abs(value);
        return magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e6) ? value.ToString("0.###e+0", Invariant) : value.ToString("0.####", Invariant);
    }

    /// <summary>A probability as a percentage (<c>12.3%</c>).</summary>
    public static string Percent(double value) => (value * 100).ToString("0.0", Invariant) + "%";

    /// <summary>A count with thousands separators (<c>2,949,312</c>).</summary>
    public static string Count(long value) => value.ToString("N0", Invariant);

    /// <summary>An integer in invariant culture.</summary>
    public static string Int(long value) => value.ToString(Invariant);

    /// <summary>A shape as <c>[3072, 192]</c>.</summary>
    public static string Shape(IEnumerable<long> shape) => "[" + string.Join(", ", shape.Select(Int)) + "]";

    /// <summary>Bytes as KB/MB/GB (powers of 1024).</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return value.ToString(unit == 0 ? "0" : "0.0", Invariant) + " " + units[unit];
    }

    /// <summary>Token text made visible in plain text: newlines and tabs as escapes, so a column stays one line.</summary>
    public static string Visible(string text) => text.Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");
}
