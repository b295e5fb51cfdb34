using System.Globalization;
using System.Text;

namespace NotebookLens.Templates;

/// <summary>
/// Python's <c>datetime.now().strftime(format)</c> in the C locale, as HF's <c>strftime_now</c>
/// global uses it (Llama 3.1+ puts "Today Date: 26 Jul 2024" in the system prompt). glibc's
/// <c>%-d</c> style no-padding flag is accepted. Unknown directives raise instead of guessing.
/// </summary>
internal static class PyStrftime
{
    public static string Format(DateTime t, string format)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            char code = format[++i];
            bool noPad = false;
            if (code == '-' && i + 1 < format.Length)
            {
                noPad = true;
                code = format[++i];
            }

            sb.Append(Directive(t, code, noPad));
        }

        return sb.ToString();
    }

    private static string Directive(DateTime t, char code, bool noPad)
    {
        string Num(int value, int width) => noPad
            ? value.ToString(CultureInfo.InvariantCulture)
            : value.ToString(new string('0', width), CultureInfo.InvariantCulture);

        CultureInfo c = CultureInfo.InvariantCulture;
        int hour12 = t.Hour % 12 == 0 ? 12 : t.Hour % 12;
        int weekday = (int)t.DayOfWeek; // Sunday = 0, as %w
        return code switch
        {
            'a' => t.ToString("ddd", c),
            'A' => t.ToString("dddd", c),
            'b' or 'h' => t.ToString("MMM", c),
            'B' => t.ToString("MMMM", c),
            'c' => $"{t.ToString("ddd MMM", c)} {t.Day,2} {t.ToString("HH:mm:ss yyyy", c)}",
            'd' => Num(t.Day, 2),
            'e' => noPad ? Num(t.Day, 1) : t.Day.ToString(c).PadLeft(2),
            'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", c),
            'H' => Num(t.Hour, 2),
            'I' => Num(hour12, 2),
            'j' => Num(t.DayOfYear, 3),
            'm' => Num(t.Month, 2),
            'M' => Num(t.Minute, 2),
            'p' => t.Hour < 12 ? "AM" : "PM",
            'S' => Num(t.Second, 2),
            'U' => Num((t.DayOfYear - 1 + 7 - weekday) / 7, 2),
            'w' => weekday.ToString(c),
            'W' => Num((t.DayOfYear - 1 + 7 - (weekday + 6) % 7) / 7, 2),
            'x' => t.ToString("MM/dd/yy", c),
            'X' => t.ToString("HH:mm:ss", c),
            'y' => Num(t.Year % 100, 2),
            'Y' => t.Year.ToString(c),
            // datetime.now() is naive: no UTC offset or zone name.
            'z' or 'Z' => "",
            '%' => "%",
            _ => throw new TemplateRuntimeException($"strftime_now: unsupported directive '%{code}'"),
        };
    }
}
