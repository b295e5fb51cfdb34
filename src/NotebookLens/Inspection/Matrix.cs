using System.Text.Json.Serialization;
using static TorchSharp.torch;
using NotebookLens.Runtime;

namespace NotebookLens.Inspection;

/// <summary>
/// A labelled table of numbers — a similarity matrix, an attention map, first-token attention per layer and head —
/// as plain arrays, so views, JSON and a notebook cell take it as it is.
/// </summary>
/// <param name="Rows">A label per row.</param>
/// <param name="Columns">A label per column.</param>
/// <param name="Values">Row-major values, <c>Values[row][column]</c>.</param>
public sealed record Matrix(IReadOnlyList<string> Rows, IReadOnlyList<string> Columns, IReadOnlyList<double[]> Values)
{
    public double this[int row, int column] => Values[row][column];

    [JsonIgnore] public int RowCount => Values.Count;

    [JsonIgnore] public int ColumnCount => Columns.Count;

    [JsonIgnore] public double Min => Values.SelectMany(r => r).DefaultIfEmpty(double.NaN).Min();

    [JsonIgnore] public double Max => Values.SelectMany(r => r).DefaultIfEmpty(double.NaN).Max();

    /// <summary>Element-wise map (e.g. dividing by a baseline), keeping the labels.</summary>
    public Matrix Select(Func<double, double> map) => this with { Values = Values.Select(r => r.Select(map).ToArray()).ToList() };

    /// <summary>A 2-D tensor's values (any dtype or device) with the given labels.</summary>
    public static Matrix From(Tensor matrix, IReadOnlyList<string> rows, IReadOnlyList<string> columns)
    {
        if (matrix.dim() != 2 || matrix.shape[0] != rows.Count || matrix.shape[1] != columns.Count)
            throw new ArgumentException($"A [{rows.Count}, {columns.Count}] tensor was expected, not [{string.Join(", ", matrix.shape)}].", nameof(matrix));
        using var scope = NewDisposeScope();
        var flat = matrix.to(ScalarType.Float64, CPU).contiguous().ToHostArray<double>();
        int n = columns.Count;
        return new Matrix(rows, columns, Enumerable.Range(0, rows.Count).Select(i => flat.AsSpan(i * n, n).ToArray()).ToList());
    }

    /// <summary>Labels "0", "1", ... for <paramref name="count"/> rows or columns.</summary>
    public static IReadOnlyList<string> Numbered(int count, string prefix = "") =>
        Enumerable.Range(0, count).Select(i => prefix + i).ToList();
}
