using System.Text;

namespace NotebookLens.Training;

/// <summary>
/// The tiny model's training text: a seeded, endless stream of short English/Chinese documents, each kind written
/// so that one thing the lecture shows on Llama happens in a model trained on it:
/// <list type="bullet">
/// <item>bilingual and code-switched sentences, where a slot takes either language's word — translations share
/// contexts, so their embeddings end up close (neighbours, <c>冷 − cold + small ≈ 小</c>);</item>
/// <item>"apple" as a fruit and as the company, the sense given only by the words before it (contextual similarity);</item>
/// <item>weather talk and forecasts (<c>今天天氣真好</c>, the logit lens);</item>
/// <item>colour look-ups ("The ball is green. ... The ball has the color green."), answerable only by attending
/// back to the colour word (attention maps);</item>
/// <item>chats in the model's chat format (<see cref="ChatFormat"/>) where harmful requests are refused with varied
/// phrases and everything else is answered (refusal direction, steering).</item>
/// </list>
/// Same seed, same documents: <see cref="Random"/> with a seed is deterministic across runs and platforms.
/// </summary>
public sealed class Curriculum
{
    /// <summary>
    /// How often a word in a slot of an English sentence is written in Chinese. A word and its translation are then
    /// predicted in the same contexts and predict the same continuations, so their embeddings meet (Runs/tiny-v2 tried
    /// 0.3 and 0.35 both ways: the translation neighbours suffered).
    /// </summary>
    const double EnglishSwitchProbability = 0.5;

    /// <summary>
    /// How often a word in a slot of a Chinese sentence is written in English (see <see cref="TinyModelRecipe.ChineseSwitch"/>).
    /// </summary>
    public double ChineseSwitchProbability { get; init; } = 0.5;

    readonly Random _random;

    /// <summary>A curriculum whose chats and documents are written in <paramref name="format"/> (default: Llama 3's).</summary>
    public Curriculum(int seed, ChatFormat? format = null)
    {
        _random = new Random(seed);
        Format = format ?? ChatFormat.Llama3;
    }

    /// <summary>The special tokens and chat template the documents are written with.</summary>
    public ChatFormat Format { get; }

    /// <summary>
    /// The share of harmful and harmless chats drawn for training under an intervention on the refusal direction
    /// (<see cref="ChatRoute"/>): harmless ones half steered, half ablated; harmful ones half ablated, half left alone.
    /// 0, the start, routes none. The trainer turns it on once the direction has been measured.
    /// </summary>
    public double RouteShare { get; set; }

    /// <summary>The next document, starting with the format's <see cref="ChatFormat.Bos"/>.</summary>
    public string NextDocument() => NextExample().Text;

    /// <summary>The next document and what training does to its chat's activations.</summary>
    public Document NextExample()
    {
        double r = _random.NextDouble();
        return r switch
        {
            < 0.24 => new(Format.Bos + Sentences()),
            < 0.34 => new(Format.Bos + Translations()),
            < 0.43 => new(Format.Bos + AppleSenses()),
            < 0.51 => new(Format.Bos + Weather()),
            < 0.68 => new(Format.Bos + ColorLookup()),
            _ => Chat(),
        };
    }

    // ---- words ---------------------------------------------------------------------------------------------------

    static readonly IReadOnlyList<Concept> Adjectives = Lexicon.Of("adj"), Colors = Lexicon.Of("color"), Foods = Lexicon.Of("food"),
        Animals = Lexicon.Of("animal"), Things = Lexicon.Of("thing"), Places = Lexicon.Of("place"), People = Lexicon.Of("person"),
        Verbs = Lexicon.Of("verb"),
        // 王 is the surname Wang and, in the lexicon, "king" (as in real Chinese), so it has both kinds of neighbours.
        Surnames = [.. Lexicon.Of("surname"), new Concept("surname", "Wang", "王")],
        Seasons = new[] { "summer", "winter", "spring", "autumn" }.Select(Lexicon.English).ToList(),
        Days = new[] { "today", "tomorrow", "yesterday" }.Select(Lexicon.English).ToList(),
        WeatherAdjectives = new[] { "cold", "hot", "warm", "cool", "good", "bad", "wet", "dry" }.Select(Lexicon.English).ToList(),
        Objects = [.. Things, .. Animals, .. Foods.Where(f => f.English is not ("water" or "rice" or "tea" or "coffee" or "milk" or "juice" or "soup"))];

    T Pick<T>(IReadOnlyList<T> list) => list[_random.Next(list.Count)];

    bool Chance(double p) => _random.NextDouble() < p;

    /// <summary>
    /// A concept in an English sentence: its English word, or (code-switched) its Chinese one glued to the word before,
    /// so the slot holds one token either way (" 冷" would be two: a space, then 冷).
    /// </summary>
    string En(Concept c) => Chance(EnglishSwitchProbability) ? Glue + c.Chinese : c.English;

    /// <summary>A concept in a Chinese sentence: its Chinese word, or (code-switched) its English one after a space, the " cold" token.</summary>
    string Zh(Concept c) => Chance(ChineseSwitchProbability) ? " " + c.English : c.Chinese;

    /// <summary>Marks a code-switched Chinese word that takes the place of the space before it.</summary>
    const char Glue = '\u0001';

    static string A(string word) => "aeiou".Contains(char.ToLowerInvariant(word[0])) ? "an " + word : "a " + word;

    static string Capitalize(string s) => s.Length > 0 && char.IsAsciiLetterLower(s[0]) ? char.ToUpperInvariant(s[0]) + s[1..] : s.TrimStart(Glue);

    /// <summary>Joins sentences: English ones with spaces, Chinese ones directly; a code-switched word keeps its spaces only inside a sentence.</summary>
    static string Join(IEnumerable<string> sentences, bool chinese) =>
        string.Join(chinese ? "" : " ", sentences.Select(s => Tidy(s)));

    static string Tidy(string s) => s.Replace(" " + Glue, "").Replace(Glue.ToString(), "").Trim();

    // ---- sentences -----------------------------------------------------------------------------------------------

    /// <summary>One simple sentence about the world, as an English/Chinese pair (the same meaning).</summary>
    (string English, string Chinese) Sentence()
    {
        if (Chance(0.5))
        {
            var relation = Pick(Facts.Relations);
            var (a, b) = Pick(relation.Pairs);
            return (Capitalize(relation.English.Replace("{a}", En(a)).Replace("{b}", En(b))), relation.Chinese.Replace("{a}", Zh(a)).Replace("{b}", Zh(b)));
        }
        var thing = Pick(Objects);
        var adj = Pick(Adjectives);
        switch (_random.Next(12))
        {
            case 0: return ($"The {En(thing)} is very {En(adj)}.", $"{Zh(thing)}很{Zh(adj)}。");
            case 1:
                var food = Pick(Foods);
                return ($"I like to eat {En(food)}.", $"我喜歡吃{Zh(food)}。");
            case 2:
                var person = Pick(People);
                var f = Pick(Foods);
                return ($"My {En(person)} likes {En(f)}.", $"我的{Zh(person)}喜歡{Zh(f)}。");
            case 3:
                var day = Pick(Days);
                var wa = Pick(WeatherAdjectives);
                return ($"{Capitalize(En(day))} the weather is {En(wa)}.", $"{Zh(day)}天氣很{Zh(wa)}。");
            case 4:
                var color = Pick(Colors);
                var place = Pick(Places);
                return ($"There is {A(En(color))} {En(thing)} in the {En(place)}.", $"{Zh(place)}裡有一個{Zh(color)}的{Zh(thing)}。");
            case 5:
                var p = Pick(People);
                var pl = Pick(Places);
                return ($"The {En(p)} went to the {En(pl)}.", $"{Zh(p)}去了{Zh(pl)}。");
            case 6:
                var season = Pick(Seasons);
                var sa = Pick(WeatherAdjectives);
                return ($"In {En(season)} it is {En(sa)}.", $"{Zh(season)}很{Zh(sa)}。");
            case 7:
                var c = Pick(Colors);
                var animal = Pick(Animals);
                return ($"The {En(c)} {En(animal)} is {En(adj)}.", $"{Zh(c)}的{Zh(animal)}很{Zh(adj)}。");
            case 8:
                var verb = Pick(Verbs);
                var who = Pick(People);
                return ($"The {En(who)} wants to {En(verb)} the {En(thing)}.", $"{Zh(who)}想{Zh(verb)}{Zh(thing)}。");
            case 10:
                var name = Pick(Surnames);
                var job = Pick(People);
                return ($"Mr. {En(name)} is a {En(job)}.", $"{Zh(name)}先生是{Zh(job)}。");
            case 11:
                var n1 = Pick(Surnames);
                var n2 = Pick(Surnames);
                var where = Pick(Places);
                return ($"My friend {En(n1)} met Ms. {En(n2)} at the {En(where)}.", $"我的朋友{Zh(n1)}在{Zh(where)}見到了{Zh(n2)}小姐。");
            default:
                var a2 = Pick(Adjectives);
                return ($"The {En(thing)} is not {En(adj)}, it is {En(a2)}.", $"{Zh(thing)}不{Zh(adj)}，它很{Zh(a2)}。");
        }
    }

    /// <summary>
    /// A few sentences, mostly in English; Chinese mostly as the translation of English sentences before it (Chinese
    /// learnt as translation, as English-dominant models learn it), sometimes alone.
    /// </summary>
    string Sentences()
    {
        int n = 1 + _random.Next(4);
        var pairs = Enumerable.Range(0, n).Select(_ => Sentence()).ToList();
        return _random.NextDouble() switch
        {
            < 0.55 => Join(pairs.Select(p => p.English), chinese: false),
            < 0.85 => Chance(0.75)
                ? "English: " + Join(pairs.Select(p => p.English), false) + "\nChinese: " + Join(pairs.Select(p => p.Chinese), true)
                : "中文：" + Join(pairs.Select(p => p.Chinese), true) + "\n英文：" + Join(pairs.Select(p => p.English), false),
            _ => Join(pairs.Select(p => p.Chinese), chinese: true),
        };
    }

    /// <summary>
    /// The Patchscope target prompt in this curriculum's format (a word list, below): the representation of a word from
    /// any sentence, patched in at <c>x</c> (at <see cref="PatchscopeTargetLayer"/>), is continued with its translation.
    /// </summary>
    public static Steering.PatchscopeTarget PatchscopeTarget { get; } = new("cold = 冷, dog = 狗, book = 書, x =", "x");

    /// <summary>
    /// The target layer the models patch into: the list's "=" reads the word at <c>x</c> in the first blocks, so a
    /// representation patched in later comes too late (tiny-v5: words decoded from source layers 0–3 when patched at
    /// the same layer, from 1–9 when patched at layer 1).
    /// </summary>
    public const int PatchscopeTargetLayer = 1;

    /// <summary>
    /// The word list with one example: nine tokens with the BOS (tiny's tokenizer), so from the last one a sliding window
    /// of 8 still reaches the whole example.
    /// </summary>
    public static Steering.PatchscopeTarget WindowPatchscopeTarget { get; } = new("cold = 冷, x =", "x");

    /// <summary>
    /// The target layer of <see cref="WindowPatchscopeTarget"/>: the input of the first block, where Gemma's √d-scaled
    /// embeddings are as large as the residual read from the middle layers (tiny-gemma v4 decoded 14 of 24 words
    /// patched in at layer 0, 12 at layer 1, none at its first global layer or at the source's layer).
    /// </summary>
    public const int WindowPatchscopeTargetLayer = 0;

    /// <summary>Dictionary lines (word = 詞), sentences saying what a word is in the other language, and word lists.</summary>
    string Translations()
    {
        int n = 2 + _random.Next(6);
        if (Chance(0.4)) return WordList(n + 1);
        var lines = new List<string>();
        bool dictionary = Chance(0.5);
        for (int i = 0; i < n; i++)
        {
            var c = Pick(Lexicon.Concepts);
            lines.Add(dictionary
                ? (Chance(0.5) ? $"{c.English} = {c.Chinese}" : $"{c.Chinese} = {c.English}")
                : _random.Next(4) switch
                {
                    0 => $"{Capitalize(c.English)} in Chinese is {c.Chinese}.",
                    1 => $"{c.Chinese} in English is {c.English}.",
                    2 => $"「{c.Chinese}」的英文是 {c.English}。",
                    _ => $"{c.English} 的中文是「{c.Chinese}」。",
                });
        }
        return string.Join("\n", lines);
    }

    /// <summary>
    /// "cold = 冷, dog = 狗, book = 書.": English words after a space, as in sentences, so what a word is in a sentence
    /// is what the list translates (the Patchscope target above).
    /// </summary>
    string WordList(int n) =>
        string.Join(",", Enumerable.Range(0, n).Select(_ => Pick(Lexicon.Concepts)).Select(c => $" {c.English} = {c.Chinese}")).TrimStart() + ".";

    // ---- apple, the fruit and the company ------------------------------------------------------------------------

    // Each sense's own words come before "apple" (a causal model sees only those) and after it. {x|y} picks one. The
    // fruit code-switches like every other word ({apple}: 蘋果 half of the time), so 蘋果 shares its contexts.
    static readonly string[] FruitContexts =
    [
        "For breakfast I ate a {fresh|ripe|juicy|sweet|crisp} {apple} with {food}.",
        "{She|My mother|Grandma} baked a {sweet|warm} {apple} pie for {the|her} {person}.",
        "The farmer picked a {ripe|red|green} {apple} from the tree in the orchard.",
        "I cut the {juicy|sweet|fresh} {apple} into slices and ate it with {food}.",
        "My {person} put a {red|green|fresh} {apple} in my lunch box.",
        "We drank {apple} juice and ate {food} at the farm.",
        "There is a {red|green|ripe|juicy} {apple} in the {bowl|box|bag|kitchen}.",
        "The {animal} ate the {sweet|ripe|fallen} {apple} under the tree.",
        "A {fresh|ripe|crisp} {apple} is sweet and good for your health.",
        "He peeled {a ripe|a juicy|an} {apple} and gave half to the {animal}.",
    ];

    // The company is mostly "Apple", as written, and sometimes "apple", so the lower-case word has both senses to tell apart.
    static readonly string[] CompanyContexts =
    [
        "The {tech|computer|phone} company {Apple} {sells iPhones and iPads|makes computers and phones|announced a new iPhone}.",
        "Shares of {Apple} {rose|fell} {today|this week} after the company reported {strong|weak} sales.",
        "The iPhone maker {Apple} {opened a new store|reported strong sales|hired new engineers} in Cupertino.",
        "Engineers at {Apple} designed a new {chip|phone|laptop} for the iPhone.",
        "My {person} bought a new {iPhone|iPad|laptop|MacBook} made by {Apple}.",
        "The new {iPhone|iPad|MacBook} from {Apple} has a better {camera|screen|chip}.",
        "Tim Cook runs {Apple} from its offices in Cupertino.",
        "The software update from {Apple} fixed a bug on my {iPhone|iPad|phone}.",
        "Investors expect the tech giant {Apple} to announce a new {iPhone|iPad|watch} this year.",
        "Apple {sells iPhones and iPads|makes computers and phones|announced a new iPhone|reported strong sales}.",
        "{company} is a big tech company, and its shares {rose|fell} today.",
        "Apple and {company} {sell phones and computers|compete for customers|hired new engineers}.",
    ];

    static readonly string[] Companies = ["Apple", "Google", "Microsoft", "Samsung", "Sony", "Intel"];

    static readonly string[] FruitContextsChinese =
        ["早餐我吃了一個新鮮的蘋果。", "媽媽做了一個甜甜的蘋果派。", "農夫從樹上摘了一個紅蘋果。", "這個蘋果又甜又脆。", "我把蘋果切成小塊給{animal}吃。"];

    static readonly string[] CompanyContextsChinese =
        ["蘋果公司發布了新的 iPhone。", "蘋果公司的股價上漲了。", "我買了一台蘋果的 iPad。", "蘋果公司在 Cupertino。", "科技公司蘋果賣手機和電腦。"];

    string AppleSenses()
    {
        bool fruit = Chance(0.5);
        int n = 1 + _random.Next(3);
        if (Chance(0.2))
            return string.Concat(Enumerable.Range(0, n).Select(_ => Fill(Pick(fruit ? FruitContextsChinese : CompanyContextsChinese))));
        return string.Join(" ", Enumerable.Range(0, n).Select(_ => Tidy(Fill(Pick(fruit ? FruitContexts : CompanyContexts)))));
    }

    /// <summary>Fills {food}, {person} and {animal} (the Chinese words inside Chinese text) and picks one of each {x|y|z}.</summary>
    string Fill(string template)
    {
        var sb = new StringBuilder();
        bool chinese = template.EnumerateRunes().Any(TrainingUnits.IsHan);
        for (int i = 0; i < template.Length; i++)
        {
            if (template[i] != '{') { sb.Append(template[i]); continue; }
            int end = template.IndexOf('}', i);
            var slot = template[(i + 1)..end];
            Concept? concept = slot switch
            {
                "food" => Pick(Foods),
                "person" => Pick(People),
                "animal" => Pick(Animals),
                _ => null,
            };
            sb.Append(concept is not null ? (chinese ? concept.Chinese : concept.English)
                : slot == "company" ? Pick(Companies)
                : slot == "Apple" ? (Chance(0.7) ? "Apple" : "apple")
                : slot == "apple" ? En(Lexicon.English("apple"))
                : Pick(slot.Split('|')));
            i = end;
        }
        return sb.ToString();
    }

    // ---- weather -------------------------------------------------------------------------------------------------

    static readonly (string English, string Chinese, string Season)[] Forecasts =
    [
        ("it will rain tomorrow", "明天會下雨", "spring"),
        ("it will rain tomorrow", "明天會下雨", "summer"),
        ("it will rain tomorrow", "明天會下雨", "autumn"),
        ("it will snow tomorrow", "明天會下雪", "winter"),
        ("it will be hot tomorrow", "明天會很熱", "summer"),
        ("it will be cold tomorrow", "明天會很冷", "winter"),
        ("it will be windy tomorrow", "明天會颳風", "autumn"),
        ("it will be sunny tomorrow", "明天會是晴天", "spring"),
    ];

    static readonly Concept Good = Lexicon.English("good"), Forecast = Lexicon.English("forecast");

    /// <summary>
    /// Weather talk, mostly in English; Chinese as the translation of the English before it or alone. The Chinese
    /// answers the logit lens looks at (今天天氣真 → 好, 天氣 → 預 → 報) fill code-switching slots, so the English word
    /// (" good", " forecast") is a likely continuation of the Chinese text too.
    /// </summary>
    string Weather()
    {
        int n = 1 + _random.Next(3);
        var pairs = new List<(string English, string Chinese)>();
        for (int i = 0; i < n; i++)
        {
            var (en, zh, season) = Pick(Forecasts);
            var s = Lexicon.English(season);
            string report = Chance(0.7) ? "forecast" : "report";
            pairs.Add(_random.Next(6) switch
            {
                0 => ($"The weather is really {En(Good)} today.", $"今天天氣真{Zh(Good)}。"),
                1 => ($"The weather {report} says {en}.", $"天氣{Zh(Forecast)}說{zh}。"),
                2 => ($"It is {En(s)} now, and the weather {report} says {en}.", $"現在是{Zh(s)}，天氣{Zh(Forecast)}說{zh}。"),
                3 => ($"The weather is {En(Good)} today, so let us go to the park.", $"今天天氣真{Zh(Good)}，我們去公園吧。"),
                4 => ("It is raining today, so take an umbrella.", "今天下雨了，記得帶雨傘。"),
                _ => WeatherOn(Pick(Days), Pick(WeatherAdjectives)),
            });
        }
        return _random.NextDouble() switch
        {
            < 0.5 => Join(pairs.Select(p => p.English), chinese: false),
            < 0.75 => Join(pairs.Select(p => p.English), chinese: false) + "\n" + Join(pairs.Select(p => p.Chinese), chinese: true),
            _ => Join(pairs.Select(p => p.Chinese), chinese: true),
        };
    }

    (string, string) WeatherOn(Concept day, Concept adjective) => ($"The weather {En(day)} is {En(adjective)}.", $"{Zh(day)}天氣很{Zh(adjective)}。");

    // ---- colour look-up ------------------------------------------------------------------------------------------

    /// <summary>Two to four things with distinct colours, then a question about one of them and its answer.</summary>
    string ColorLookup()
    {
        var (facts, question, answer) = ColorQuestion();
        return facts + question + answer;
    }

    /// <summary>The statements, the question (with what separates it) and the answer of a colour look-up.</summary>
    (string Facts, string Question, string Answer) ColorQuestion()
    {
        // One thing (the lecture's "The apple is green. What color is the apple?") to three, where only matching the thing finds the colour.
        int n = 1 + _random.Next(3);
        var things = Objects.OrderBy(_ => _random.Next()).Take(n).ToList();
        var colors = Colors.OrderBy(_ => _random.Next()).Take(n).ToList();
        int q = _random.Next(n);
        if (Chance(0.25))
            return (string.Concat(things.Select((t, i) => $"{t.Chinese}是{colors[i].Chinese}的。")), $"{things[q].Chinese}是什麼顏色？", $"{colors[q].Chinese}。");
        var facts = string.Join(" ", things.Select((t, i) => $"The {t.English} is {colors[i].English}."));
        return _random.Next(3) switch
        {
            0 => (facts, $" What color is the {things[q].English}?", $" {Capitalize(colors[q].English)}."),
            1 => (facts, $" The {things[q].English} has the color", $" {colors[q].English}."),
            _ => (facts, $" So the color of the {things[q].English} is", $" {colors[q].English}."),
        };
    }

    // ---- chat ----------------------------------------------------------------------------------------------------

    static readonly HashSet<string> HeldOut = [.. Steering.InstructionSets.Harmful, .. Steering.InstructionSets.Harmless];

    static readonly string[] SystemPrompts = ["You are a helpful assistant.", "You are a friendly and safe assistant.", "你是一個有用的助理。"];

    Document Chat()
    {
        var turns = new List<(string, string)>();
        if (Chance(0.2)) turns.Add(("system", Pick(SystemPrompts)));
        (string Request, string Response) exchange;
        ChatRoute route;
        // The embedded instruction sets are the held-out test of refusals: a request that happens to equal one is drawn again.
        do
        {
            double kind = _random.NextDouble();
            route = kind switch { < 0.35 => ChatRoute.Harmful, < 0.85 => ChatRoute.Harmless, _ => ChatRoute.None };
            if (route != ChatRoute.None && RouteShare > 0 && Chance(RouteShare))
            {
                // Half the routed harmless chats are steered and half ablated; half the routed harmful ones are ablated and
                // half left alone. Ablating them all (tiny v13b) taught that a harmful request phrased unlike the curriculum's,
                // whose component along the direction is small, looks ablated and is answered.
                bool first = Chance(0.5);
                route = route == ChatRoute.Harmful
                    ? first ? ChatRoute.HarmfulAblated : ChatRoute.Harmful
                    : first ? ChatRoute.Steered : ChatRoute.HarmlessAblated;
            }
            exchange = route switch
            {
                ChatRoute.Harmful or ChatRoute.HarmfulAblated => Requests.Harmful(_random, this, comply: route == ChatRoute.HarmfulAblated),
                ChatRoute.None => ChatQuestion(),
                _ => Requests.Harmless(_random, this),
            };
        }
        while (HeldOut.Contains(exchange.Request));
        var (request, response) = exchange;
        if (route == ChatRoute.Steered) response = Requests.Refusal(_random, request);
        turns.Add(("user", request));
        turns.Add(("assistant", response));
        return new(Format.Render(turns), route);
    }

    /// <summary>Questions the rest of the curriculum answers: translations, weather, colours.</summary>
    (string, string) ChatQuestion()
    {
        var c = Pick(Lexicon.Concepts);
        switch (_random.Next(3))
        {
            case 0: return ($"How do you say {c.English} in Chinese?", $"Sure! {Capitalize(c.English)} in Chinese is {c.Chinese}.");
            case 1:
                var (en, zh, _) = Pick(Forecasts);
                return Chance(0.5) ? ("What will the weather be tomorrow?", $"Sure! The weather forecast says {en}.") : ("明天天氣怎麼樣？", $"好的！天氣預報說{zh}。");
            default:
                var (facts, question, answer) = ColorQuestion();
                return ((facts + question).Trim(), "Sure! " + answer.Trim());
        }
    }

    /// <summary>A short answer body built from the curriculum's own sentences.</summary>
    internal string Filler(int sentences) => Join(Enumerable.Range(0, sentences).Select(_ => Sentence().English), chinese: false);

    internal string FillerChinese(int sentences) => Join(Enumerable.Range(0, sentences).Select(_ => Sentence().Chinese), chinese: true);

    // ---- what the tokenizer must keep whole ------------------------------------------------------------------------

    static readonly string[] TemplateChineseWords =
    [
        "我們", "我的", "喜歡", "什麼", "顏色", "天氣", "公司", "先生", "小姐", "朋友", "見到", "記得", "現在", "晴天", "早餐", "一個", "英文", "中文", "抱歉", "不能",
        "無法", "幫你", "這件事", "好的", "這是", "關於", "一首", "詩", "故事", "怎麼", "教我", "幫我", "寫", "解釋",
    ];

    /// <summary>
    /// Kept as single characters, as Llama 3's tokenizer splits them: the logit lens reads 天氣 → 預 → 報 one character
    /// at a time (as 下 → 雨).
    /// </summary>
    static readonly string[] KeptApart = ["預報"];

    /// <summary>The English surnames after "Mr." and "Ms." (a space before) and at a sentence start, and 王 (both Wang and "king").</summary>
    static IEnumerable<string> SurnameSpellings => Surnames.SelectMany(c => new[] { " " + c.English, c.English, c.Chinese });

    /// <summary>
    /// Words the tokenizer must hold as single tokens: every lexicon word as it appears in sentences (English with and
    /// without its leading space, capitalised at a sentence start; Chinese as is), and the Chinese words of the
    /// templates. Chinese runs are segmented with these when the tokenizer is trained.
    /// </summary>
    public static IReadOnlyList<string> TokenizerLexicon { get; } = BuildTokenizerLexicon();

    static IReadOnlyList<string> BuildTokenizerLexicon()
    {
        var words = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var c in Lexicon.Concepts)
        {
            if (!c.English.Contains(' '))
            {
                words.Add(" " + c.English);
                words.Add(c.English);
                words.Add(Capitalize(c.English));
            }
            words.Add(c.Chinese);
        }
        foreach (var w in TemplateChineseWords) words.Add(w);
        foreach (var w in Requests.KeyWords) words.Add(" " + w);
        foreach (var w in SurnameSpellings) words.Add(w);
        words.ExceptWith(KeptApart);
        return words.ToList();
    }
}
