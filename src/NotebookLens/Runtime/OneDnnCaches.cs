namespace NotebookLens.Runtime;

/// <summary>
/// libtorch's oneDNN products (bf16 ones of more rows than <see cref="Models.Bf16MatVec"/> takes, the attention's
/// batched ones) keep what they build for each shape in two caches of 1,024 entries: ideep's primitive descriptors
/// (<c>LRU_CACHE_CAPACITY</c>) and oneDNN's primitives with their generated code (<c>ONEDNN_PRIMITIVE_CACHE_CAPACITY</c>).
/// Every prompt length not seen before adds several entries: 200 prompts of 2 to 202 tokens through Llama-3.2-1B's
/// shapes grew the C heap from 54 to 343 MB, which a notebook session never got back. A pass builds a few shapes and
/// reuses them from layer to layer (a chunked prefill of eight prompts about twenty), so this caps both caches at
/// <see cref="Capacity"/>: the same 200 prompts then left the heap at 74 MB in the same time. Both libraries read the
/// variables at their first product; a value the environment sets is the user's choice and stays.
/// </summary>
internal static class OneDnnCaches
{
    internal const int Capacity = 64;
    internal static readonly string[] Variables = ["LRU_CACHE_CAPACITY", "ONEDNN_PRIMITIVE_CACHE_CAPACITY"];

    /// <summary>Caps both caches where the environment leaves them; says what holds.</summary>
    public static string Cap() => string.Join("; ", Variables.Select(name =>
        NativeEnvironment.SetDefault(name, Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture)) is { } held
            ? $"{name} {held}"
            : $"oneDNN cache capped ({name}={Capacity})"));
}
