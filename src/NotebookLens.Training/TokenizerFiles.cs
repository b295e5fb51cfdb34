using System.Text.Encodings.Web;
using System.Text.Json;
using NotebookLens.Tokenization;

namespace NotebookLens.Training;

/// <summary>Writes a <see cref="TrainedBpe"/> as Llama 3's tokenizer files are laid out, field for field (Gemma's special tokens and template go in the same layout).</summary>
static class TokenizerFiles
{
    static readonly JsonWriterOptions Pretty = new()
    {
        Indented = true,
        // Fixed, so the files are byte-identical on every platform.
        NewLine = "\n",
        // Chinese tokens and templates stay readable; the files are data, never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(TrainedBpe bpe, string folder, TokenizerFileOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var bos = Find(bpe, options.BosToken, nameof(options.BosToken));
        Find(bpe, options.EosToken, nameof(options.EosToken));
        if (options.PadToken is { } pad) Find(bpe, pad, nameof(options.PadToken));
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "tokenizer.json"), Json(w => WriteTokenizer(w, bpe, bos)));
        File.WriteAllBytes(Path.Combine(folder, "tokenizer_config.json"), Json(w => WriteConfig(w, bpe, options)));
    }

    static SpecialToken Find(TrainedBpe bpe, string content, string role) =>
        bpe.SpecialTokens.FirstOrDefault(s => s.Content == content)
        ?? throw new ArgumentException($"{role} '{content}' is not one of the special tokens ({string.Join(", ", bpe.SpecialTokens.Select(s => s.Content))}).", "options");

    static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Pretty)) write(writer);
        return stream.ToArray();
    }

    static void WriteTokenizer(Utf8JsonWriter w, TrainedBpe bpe, SpecialToken bos)
    {
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        foreach (var special in bpe.SpecialTokens)
        {
            w.WriteStartObject();
            w.WriteNumber("id", special.Id);
            w.WriteString("content", special.Content);
            WriteAddedTokenFlags(w);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNull("normalizer");

        w.WriteStartObject("pre_tokenizer");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("pretokenizers");
        w.WriteStartObject();
        w.WriteString("type", "Split");
        w.WriteStartObject("pattern");
        w.WriteString("Regex", FastSplitPattern.Llama3);
        w.WriteEndObject();
        w.WriteString("behavior", "Isolated");
        w.WriteBoolean("invert", false);
        w.WriteEndObject();
        WriteByteLevel(w, addPrefixSpace: false, trimOffsets: true, useRegex: false);
        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteStartObject("post_processor");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("processors");
        WriteByteLevel(w, addPrefixSpace: true, trimOffsets: false, useRegex: true);
        WriteBosTemplate(w, bos);
        w.WriteEndArray();
        w.WriteEndObject();

        w.WritePropertyName("decoder");
        WriteByteLevel(w, addPrefixSpace: true, trimOffsets: true, useRegex: true);

        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteNull("continuing_subword_prefix");
        w.WriteNull("end_of_word_suffix");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", false);
        w.WriteStartObject("vocab");
        for (int id = 0; id < bpe.Tokens.Count; id++) w.WriteNumber(bpe.Tokens[id], id);
        w.WriteEndObject();
        // "a b" strings, as Llama 3's file has them: byte-level tokens never contain a space.
        w.WriteStartArray("merges");
        foreach (var (left, right) in bpe.Merges) w.WriteStringValue($"{left} {right}");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    static void WriteAddedTokenFlags(Utf8JsonWriter w)
    {
        w.WriteBoolean("single_word", false);
        w.WriteBoolean("lstrip", false);
        w.WriteBoolean("rstrip", false);
        w.WriteBoolean("normalized", false);
        w.WriteBoolean("special", true);
    }

    static void WriteByteLevel(Utf8JsonWriter w, bool addPrefixSpace, bool trimOffsets, bool useRegex)
    {
        w.WriteStartObject();
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", trimOffsets);
        w.WriteBoolean("use_regex", useRegex);
        w.WriteEndObject();
    }

    /// <summary>BOS before a single sequence and before each of a pair, as Llama 3.1's file does.</summary>
    static void WriteBosTemplate(Utf8JsonWriter w, SpecialToken bos)
    {
        void Special(int typeId)
        {
            w.WriteStartObject();
            w.WriteStartObject("SpecialToken");
            w.WriteString("id", bos.Content);
            w.WriteNumber("type_id", typeId);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        void Sequence(string id, int typeId)
        {
            w.WriteStartObject();
            w.WriteStartObject("Sequence");
            w.WriteString("id", id);
            w.WriteNumber("type_id", typeId);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteStartObject();
        w.WriteString("type", "TemplateProcessing");
        w.WriteStartArray("single");
        Special(0);
        Sequence("A", 0);
        w.WriteEndArray();
        w.WriteStartArray("pair");
        Special(0);
        Sequence("A", 0);
        Special(1);
        Sequence("B", 1);
        w.WriteEndArray();
        w.WriteStartObject("special_tokens");
        w.WriteStartObject(bos.Content);
        w.WriteString("id", bos.Content);
        w.WriteStartArray("ids");
        w.WriteNumberValue(bos.Id);
        w.WriteEndArray();
        w.WriteStartArray("tokens");
        w.WriteStringValue(bos.Content);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    static void WriteConfig(Utf8JsonWriter w, TrainedBpe bpe, TokenizerFileOptions options)
    {
        w.WriteStartObject();
        w.WriteStartObject("added_tokens_decoder");
        foreach (var special in bpe.SpecialTokens)
        {
            w.WriteStartObject(special.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("content", special.Content);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteString("bos_token", options.BosToken);
        if (options.ChatTemplate is { } template) w.WriteString("chat_template", template);
        w.WriteBoolean("clean_up_tokenization_spaces", false);
        w.WriteString("eos_token", options.EosToken);
        w.WriteStartArray("model_input_names");
        w.WriteStringValue("input_ids");
        w.WriteStringValue("attention_mask");
        w.WriteEndArray();
        w.WriteNumber("model_max_length", options.ModelMaxLength);
        if (options.PadToken is { } pad) w.WriteString("pad_token", pad);
        w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
        w.WriteEndObject();
    }
}
