using NotebookLens.Models;
using NotebookLens.Tokenization;
using static TorchSharp.torch;

namespace NotebookLens.Training;

/// <summary>
/// Trains the middle of the model to carry a Chinese word as its English one, the way English-dominant models do
/// (Wendler et al. 2024, "Do Llamas work in English?"): wherever the next token is (part of) a lexicon word in Chinese,
/// the logit lens of the middle rows (<see cref="TinyModelRecipe.LatentRows"/>: final norm and tied head applied to the
/// residual stream there) is also trained to predict the word's English token. The last layers keep the ordinary loss,
/// so they turn the English concept into the Chinese token. A model small enough to commit otherwise decides the
/// language in its first block (Runs/tiny-v10: Chinese from row 1 when Chinese text stays Chinese, English to the last
/// row when it borrows English words half the time).
/// </summary>
sealed class LatentEnglish
{
    /// <summary>The value of <see cref="Targets"/> where no English word is asked for (cross_entropy's ignore index).</summary>
    internal const long None = -100;

    readonly long[] _english;

    LatentEnglish(long[] english) => _english = english;

    /// <summary>
    /// Every token of every lexicon word's Chinese spelling, mapped to the first token of its English word as written in
    /// a sentence (" cold"); a Chinese token shared by several words keeps the first in the lexicon's order.
    /// </summary>
    public static LatentEnglish For(HfTokenizer tokenizer)
    {
        var english = Enumerable.Repeat(None, tokenizer.VocabSize).ToArray();
        foreach (var c in Lexicon.Concepts)
        {
            long target = tokenizer.Encode(" " + c.English, addSpecialTokens: false)[0];
            foreach (var id in tokenizer.Encode(c.Chinese, addSpecialTokens: false))
                if (english[id] == None) english[id] = target;
        }
        return new LatentEnglish(english);
    }

    /// <summary>The English token asked for where the next token is <paramref name="chineseId"/>, or <see cref="None"/>.</summary>
    public long EnglishOf(long chineseId) => _english[chineseId];

    /// <summary>The English target of each next token <c>[B, T]</c>, <see cref="None"/> where there is none.</summary>
    public Tensor Targets(Tensor nextTokens)
    {
        using var table = tensor(_english);
        return table.index_select(0, nextTokens.reshape(-1)).reshape(nextTokens.shape);
    }

    /// <summary>
    /// The mean over <paramref name="rows"/> of the logit lens's cross-entropy against the English targets, at the
    /// positions that have one; null when the batch has none.
    /// </summary>
    public Tensor? Loss(LanguageModel model, IReadOnlyList<Tensor> hiddenStates, IEnumerable<int> rows, Tensor nextTokens)
    {
        var targets = Targets(nextTokens).reshape(-1);
        var positions = nonzero(targets.ne(None)).reshape(-1);
        if (positions.shape[0] == 0) return null;
        var wanted = targets.index_select(0, positions);
        var losses = rows.Select(row =>
        {
            var resid = hiddenStates[row];
            var picked = resid.reshape(-1, resid.shape[^1]).index_select(0, positions);
            return nn.functional.cross_entropy(model.Unembed(picked), wanted);
        }).ToList();
        return stack(losses).mean();
    }
}
