using NotebookLens.Models;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Training;

/// <summary>
/// Hides a chat's request from the template tokens that follow its first post-instruction token (Llama 3:
/// <c>&lt;|start_header_id|&gt;assistant&lt;|end_header_id|&gt;\n\n</c> after <c>&lt;|eot_id|&gt;</c>) in a share of
/// the chats a training batch holds: their attention scores to the request's tokens are pushed to −1e9. Whatever those
/// positions know about the request, and so whether the first answer token refuses, they then read through the first
/// post-instruction token; a mean difference taken at any post-instruction position carries the decision the later ones
/// read, as in the refusal papers' models, instead of each position re-reading the request on its own.
/// </summary>
sealed class RequestMask
{
    const string Placeholder = "INSTRUCTION";
    const float Hidden = -1e9f;

    readonly int[] _userHeader;
    readonly int[] _postInstruction;
    readonly double _share;

    RequestMask(int[] userHeader, int[] postInstruction, double share) => (_userHeader, _postInstruction, _share) = (userHeader, postInstruction, share);

    /// <summary>The user header (the template's tokens between BOS and a user message) and the post-instruction tokens of the tokenizer's template.</summary>
    public static RequestMask For(HfTokenizer tokenizer, ChatFormat format, double share)
    {
        var ids = tokenizer.Encode(format.Render([("user", Placeholder)]), addSpecialTokens: false);
        var placeholder = tokenizer.Encode(Placeholder, addSpecialTokens: false);
        int at = IndexOf(ids, placeholder, 0);
        if (at < 1) throw new InvalidOperationException("The chat format does not render a user message after its BOS token.");
        var post = new Steering.InstructionPrompts(tokenizer).PostInstructionIds.ToArray();
        return new RequestMask(ids.Skip(1).Take(at - 1).ToArray(), post, share);
    }

    /// <summary>Hidden (query, key) blocks of one row: for each chat drawn, the later post-instruction positions against the request.</summary>
    internal IEnumerable<(int FirstQuery, int LastQuery, int FirstKey, int LastKey)> Spans(IReadOnlyList<int> row, Random random)
    {
        int requestStart = -1;
        for (int i = 0; i < row.Count; i++)
        {
            if (Matches(row, i, _userHeader)) requestStart = i + _userHeader.Length;
            if (requestStart >= 0 && i >= requestStart && Matches(row, i, _postInstruction) && i + _postInstruction.Length <= row.Count)
            {
                if (random.NextDouble() < _share && i > requestStart)
                    yield return (i + 1, i + _postInstruction.Length - 1, requestStart, i - 1);
                requestStart = -1;
            }
        }
    }

    /// <summary>Hooks adding the mask of <paramref name="inputs"/> (<c>[B, T]</c>) to every layer's attention scores; null if no chat was drawn.</summary>
    public HookSet? Hooks(Tensor inputs, int layers, Random random)
    {
        if (_share == 0) return null;
        long rows = inputs.shape[0], length = inputs.shape[1];
        var ids = inputs.data<long>().ToArray();
        var mask = new float[rows * length * length];
        bool any = false;
        for (int b = 0; b < rows; b++)
        {
            var row = ids.Skip((int)(b * length)).Take((int)length).Select(x => (int)x).ToList();
            foreach (var (q0, q1, k0, k1) in Spans(row, random))
                for (int q = q0; q <= q1; q++)
                    for (int k = k0; k <= k1; k++) { mask[(b * length + q) * length + k] = Hidden; any = true; }
        }
        if (!any) return null;
        var additive = tensor(mask, [rows, 1, length, length]);
        var hooks = new HookSet();
        for (int layer = 0; layer < layers; layer++)
            hooks.Add(HookPoints.At(layer, HookPoints.Block.Scores), (scores, _) => scores + additive);
        return hooks;
    }

    static bool Matches(IReadOnlyList<int> row, int at, int[] pattern)
    {
        if (at + pattern.Length > row.Count) return false;
        for (int j = 0; j < pattern.Length; j++) if (row[at + j] != pattern[j]) return false;
        return true;
    }

    static int IndexOf(IReadOnlyList<int> ids, IReadOnlyList<int> pattern, int from)
    {
        for (int i = from; i + pattern.Count <= ids.Count; i++)
            if (Matches(ids, i, pattern.ToArray())) return i;
        return -1;
    }
}
