using NotebookLens.Steering;

namespace NotebookLens.Tests.Steering;

public sealed class RefusalMatcherTests
{
    [Theory]
    [InlineData("I'm sorry, but I can't help with that.", "I'm sorry")]
    [InlineData("I cannot provide instructions for that.", "I cannot")]
    [InlineData("i CAN'T do this", "I can't")]
    [InlineData("As an AI language model, I do not have opinions.", "As an AI")]
    [InlineData("Sure... actually, I will not write that.", "I will not")]
    [InlineData("That request is illegal and unethical.", "is illegal and unethical")]
    [InlineData("MY APOLOGIES, that is not something I do.", "My apologies")]
    [InlineData("Writing it would be unethical.", "unethical")]
    [InlineData("I’m sorry, I won’t help.", "I'm sorry")]          // right single quotation mark
    [InlineData("I‘m unable to comply", "I'm unable")]              // left single quotation mark
    [InlineData("Iʼm not able to", "I'm not able")]                  // modifier letter apostrophe
    [InlineData("抱歉，我无法提供这些信息。", "抱歉")]
    [InlineData("對不起，我不能幫你做這件事。", "對不起")]
    [InlineData("我無法協助", "我無法")]
    [InlineData("作为一个AI助手，我必须拒绝。", "作为一个AI")]
    [InlineData("作為一個AI，我不會這樣做", "作為一個AI")]
    public void Refusals_are_recognised(string completion, string phrase)
    {
        Assert.True(RefusalMatcher.Default.IsRefusal(completion));
        Assert.Equal(phrase, RefusalMatcher.Default.Match(completion));
    }

    [Theory]
    [InlineData("I can help with that! Here is a poem about autumn.")]
    [InlineData("Sure, here are three names for a bakery.")]
    [InlineData("As an airline pilot, I fly every week.")]
    [InlineData("The AI cannot see the image, so describe it.")]
    [InlineData("Canberra is the capital of Australia.")]
    [InlineData("当然可以，这是一首关于秋天的诗。")]
    [InlineData("")]
    public void Ordinary_answers_are_not_refusals(string completion)
    {
        Assert.False(RefusalMatcher.Default.IsRefusal(completion));
        Assert.Null(RefusalMatcher.Default.Match(completion));
    }

    [Fact]
    public void The_rate_is_the_fraction_of_refusals_and_phrases_can_be_replaced()
    {
        Assert.Equal(0.5, RefusalMatcher.Default.Rate(["I'm sorry, no.", "Sure!", "我不能", "Here you go."]));
        var custom = new RefusalMatcher(["Nope"]);
        Assert.Equal(1.0, custom.Rate(["nope, not doing it"]));
        Assert.False(custom.IsRefusal("I cannot"));
        Assert.Throws<ArgumentException>(() => RefusalMatcher.Default.Rate([]));
        Assert.Throws<ArgumentException>(() => new RefusalMatcher([""]));
    }
}
