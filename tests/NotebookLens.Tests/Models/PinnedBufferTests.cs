using NotebookLens.Models;

namespace NotebookLens.Tests.Models;

public unsafe class PinnedBufferTests
{
    [Fact]
    public void A_buffer_is_kept_while_it_holds_the_floats_from_its_first_cache_line_and_replaced_when_short()
    {
        float[]? buffer = null;
        var first = PinnedBuffer.AtLeast(ref buffer, 100, size: 1000);
        Assert.Same(first, buffer);
        Assert.Equal(1016, first.Length); // the size asked for, and the most the alignment skips
        Assert.Same(first, PinnedBuffer.AtLeast(ref buffer, 1000));
        var grown = PinnedBuffer.AtLeast(ref buffer, 1001);
        Assert.NotSame(first, grown);
        Assert.Same(grown, buffer);
        Assert.Equal(1017, grown.Length);
        fixed (float* start = grown)
        {
            float* aligned = PinnedBuffer.Aligned(start);
            Assert.Equal(0, (nint)aligned % 64);
            Assert.InRange(aligned - start, 0, 15);
            Assert.True(aligned + 1001 <= start + grown.Length);
        }
    }
}
