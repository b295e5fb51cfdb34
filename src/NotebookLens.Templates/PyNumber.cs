using System.Globalization;
using System.Numerics;

namespace NotebookLens.Templates;

/// <summary>Python's <c>int()</c>, <c>float()</c> and <c>round()</c> conversions.</summary>
internal static class PyNumber
{
    /// <summary>Python's <c>int(text, base)</c>: surrounding whitespace, a sign, '_' between digits, an optional base prefix.</summary>
    public static bool TryParseInt(string text, long numberBase, out long value)
    {
        value = 0;
        if (numberBase is < 2 or > 36)
            return false;
        string s = PyText.Strip(text, null);
        bool negative = s.StartsWith('-');
        if (s.StartsWith('-') || s.StartsWith('+'))
            s = s[1..];
        string prefix = numberBase switch { 2 => "0b", 8 => "0o", 16 => "0x", _ => "" };
        if (prefix.Length > 0 && s.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            s = s[2..].TrimStart('_');
        if (s.Length == 0 || s.StartsWith('_') || s.EndsWith('_') || s.Contains("__", StringComparison.Ordinal))
            return false;

        BigInteger result = BigInteger.Zero;
        foreach (char c in s.Replace("_", ""))
        {
            int digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiLetter(c) ? char.ToLowerInvariant(c) - 'a' + 10 : 99;
            if (digit >= numberBase)
                return false;
            result = result * numberBase + digit;
        }

        if (negative)
            result = -result;
        if (result < long.MinValue || result > long.MaxValue)
            return false;
        value = (long)result;
        return true;
    }

    /// <summary>Python's <c>float(text)</c>, including "inf", "nan" and '_' between digits.</summary>
    public static bool TryParseFloat(string text, out double value)
    {
        string s = PyText.Strip(text, null);
        string unsigned = s.TrimStart('+', '-');
        bool negative = s.StartsWith('-');
        switch (unsigned.ToLowerInvariant())
        {
            case "inf" or "infinity":
                value = negative ? double.NegativeInfinity : double.PositiveInfinity;
                return s.Length - unsigned.Length <= 1;
            case "nan":
                value = double.NaN;
                return s.Length - unsigned.Length <= 1;
        }

        value = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '_' && (i == 0 || i == s.Length - 1 || !char.IsAsciiDigit(s[i - 1]) || !char.IsAsciiDigit(s[i + 1])))
                return false;
            if (!char.IsAsciiDigit(s[i]) && s[i] is not ('_' or '.' or 'e' or 'E' or '+' or '-'))
                return false;
        }

        return double.TryParse(s.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Python's <c>round(n, ndigits)</c> on an int: unchanged unless ndigits is negative, then half-to-even.</summary>
    public static long RoundInt(long n, long digits)
    {
        if (digits >= 0)
            return n;
        if (digits < -18)
            return 0;
        BigInteger unit = BigInteger.Pow(10, (int)-digits);
        BigInteger quotient = BigInteger.DivRem(n, unit, out BigInteger remainder);
        if (remainder.Sign < 0)
        {
            quotient -= 1;
            remainder += unit;
        }

        int half = (remainder * 2).CompareTo(unit);
        if (half > 0 || (half == 0 && !quotient.IsEven))
            quotient += 1;
        return (long)(quotient * unit);
    }

    /// <summary>
    /// Python's <c>round(x, ndigits)</c> on a float: rounds the exact binary value half-to-even,
    /// so round(2.5) is 2 and round(2.675, 2) is 2.67, as in CPython.
    /// </summary>
    public static double Round(double x, long digits)
    {
        if (double.IsNaN(x) || double.IsInfinity(x) || x == 0)
            return x;
        if (digits > 330)
            return x;
        if (digits < -330)
            return 0.0 * Math.Sign(x);

        // x = mantissa * 2^exponent exactly.
        long bits = BitConverter.DoubleToInt64Bits(x);
        int rawExponent = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & 0xFFFFFFFFFFFFFL;
        BigInteger mantissa = rawExponent == 0 ? fraction : fraction | (1L << 52);
        int exponent = (rawExponent == 0 ? 1 : rawExponent) - 1075;

        // Scale to an exact fraction num/den of x * 10^digits.
        BigInteger num = mantissa;
        BigInteger den = BigInteger.One;
        if (exponent >= 0)
            num <<= exponent;
        else
            den <<= -exponent;
        if (digits >= 0)
            num *= BigInteger.Pow(10, (int)digits);
        else
            den *= BigInteger.Pow(10, (int)-digits);

        BigInteger quotient = BigInteger.DivRem(num, den, out BigInteger remainder);
        int half = (remainder * 2).CompareTo(den);
        if (half > 0 || (half == 0 && !quotient.IsEven))
            quotient += 1;

        string digitsText = quotient.ToString(CultureInfo.InvariantCulture);
        string decimalText = digits >= 0 ? $"{digitsText}e-{digits}" : $"{digitsText}e{-digits}";
        double magnitude = double.Parse(decimalText, NumberStyles.Float, CultureInfo.InvariantCulture);
        return x < 0 ? -magnitude : magnitude;
    }
}
