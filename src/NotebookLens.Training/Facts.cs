namespace NotebookLens.Training;

/// <summary>
/// Facts about the tiny model's world: opposites, what things are like, their colours, what animals eat, where people
/// work, what one needs when. They give each word contexts of its own — without them every adjective fills the same
/// slots and only language and part of speech tell words apart. Written in either language (and code-switched), a
/// fact gives a word and its translation the same contexts, so their embeddings meet, as in real bilingual text.
/// </summary>
static class Facts
{
    /// <summary>An English and a Chinese pattern with slots {a} and {b}, and the pairs of English words that fill them.</summary>
    public sealed record Relation(string English, string Chinese, IReadOnlyList<(Concept A, Concept B)> Pairs);

    static (Concept, Concept)[] Pairs(params string[] words) =>
        Enumerable.Range(0, words.Length / 2).Select(i => (Lexicon.English(words[2 * i]), Lexicon.English(words[2 * i + 1]))).ToArray();

    static readonly (Concept, Concept)[] Opposites = Pairs(
        "cold", "hot", "big", "small", "good", "bad", "new", "old", "fast", "slow", "happy", "sad", "tall", "short", "clean", "dirty",
        "heavy", "light", "cheap", "expensive", "easy", "difficult", "quiet", "noisy", "sweet", "bitter", "strong", "weak", "rich", "poor",
        "wet", "dry", "soft", "hard", "bright", "dark", "beautiful", "ugly", "hungry", "full", "young", "old", "warm", "cool");

    public static IReadOnlyList<Relation> Relations { get; } =
    [
        new("The opposite of {a} is {b}.", "{a}的反義詞是{b}。", [.. Opposites, .. Opposites.Select(p => (p.Item2, p.Item1))]),
        new("Everyone knows that the {a} is {b}.", "大家都知道{a}很{b}。", Pairs(
            "elephant", "big", "mouse", "small", "tiger", "strong", "rabbit", "fast", "horse", "fast", "lemon", "sour", "candy", "sweet",
            "cake", "sweet", "coffee", "bitter", "winter", "cold", "summer", "hot", "spring", "warm", "autumn", "cool", "sun", "bright",
            "library", "quiet", "market", "noisy", "train", "fast", "baby", "small", "grandfather", "old", "child", "young", "bed", "soft",
            "key", "small", "mountain", "tall", "river", "long", "doctor", "busy", "teacher", "kind", "student", "tired", "strawberry", "sweet",
            "snake", "long", "bear", "strong")),
        new("The {a} is usually {b}.", "{a}通常是{b}的。", Pairs(
            "banana", "yellow", "lemon", "yellow", "grape", "purple", "strawberry", "red", "tomato", "red", "carrot", "orange", "milk", "white",
            "snow", "white", "sky", "blue", "sea", "blue", "tree", "green", "watermelon", "green", "pig", "pink", "coffee", "brown",
            "cloud", "white", "sun", "yellow", "mouse", "gray", "elephant", "gray", "frog", "green", "bear", "brown", "peach", "pink",
            "mango", "yellow", "cheese", "yellow", "egg", "white", "rice", "white", "bread", "brown", "flower", "red", "panda", "black")),
        new("The {a} likes to eat {b}.", "{a}喜歡吃{b}。", Pairs(
            "cat", "fish", "kitten", "milk", "dog", "chicken", "rabbit", "carrot", "monkey", "banana", "mouse", "cheese", "bird", "bread",
            "duck", "bread", "horse", "carrot", "pig", "potato", "bear", "fish", "panda", "rice", "elephant", "watermelon", "baby", "milk")),
        new("The {a} works at the {b}.", "{a}在{b}工作。", Pairs(
            "teacher", "school", "doctor", "hospital", "cook", "restaurant", "farmer", "farm", "driver", "station", "student", "library",
            "father", "office", "mother", "store", "grandmother", "market", "grandfather", "garden")),
        new("When it is {a}, I need the {b}.", "{a}的時候，我需要{b}。", Pairs(
            "cold", "coat", "cold", "scarf", "dark", "lamp", "dark", "candle", "tired", "bed", "hungry", "bread", "hot", "water",
            "wet", "umbrella", "dirty", "water", "sad", "friend", "noisy", "song")),
    ];
}
