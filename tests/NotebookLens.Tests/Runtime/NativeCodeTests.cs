using System.Runtime.InteropServices;
using NotebookLens.Runtime;

namespace NotebookLens.Tests.Runtime;

/// <summary>Machine code mapped executable and called, as <see cref="NotebookLens.Models.Bf16MatVec"/> calls its bf16 dot-product loops.</summary>
public unsafe class NativeCodeTests
{
    static bool LinuxX64 => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64;

    [Fact]
    public void Mapped_code_runs_with_the_arguments_it_is_given()
    {
        // lea eax, [rdi + rsi]; ret: the sum of the first two arguments (System V).
        var code = NativeCode.Map([0x8D, 0x04, 0x37, 0xC3]);
        if (!LinuxX64)
        {
            Assert.True(code is null);
            return;
        }
        Assert.True(code is not null, "executable memory was refused");
        var add = (delegate* unmanaged<int, int, int>)code;
        Assert.Equal(42, add(40, 2));
        Assert.Equal(-7, add(3, -10));
    }

    [Fact]
    public void Mapped_code_is_a_copy_not_the_callers_bytes()
    {
        if (!LinuxX64) return;
        // mov eax, imm32; ret: changing the array after mapping changes nothing.
        byte[] bytes = [0xB8, 7, 0, 0, 0, 0xC3];
        var code = NativeCode.Map(bytes);
        bytes[1] = 9;
        Assert.Equal(7, ((delegate* unmanaged<int>)code)());
    }

    [Fact]
    public void Nothing_is_mapped_for_no_code() => Assert.True(NativeCode.Map([]) is null);
}
