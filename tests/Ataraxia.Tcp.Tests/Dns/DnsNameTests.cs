using Ataraxia.Tcp.Discovery.Dns;

namespace Ataraxia.Tcp.Tests.Dns;

public sealed class DnsNameTests
{
    [Fact]
    public void Names_compare_ignoring_ASCII_case_and_keep_their_own_case()
    {
        DnsName upper = DnsName.Parse("VectorHost.LOCAL");
        DnsName lower = DnsName.Parse("vectorhost.local.");

        Assert.Equal(upper, lower);
        Assert.True(upper == lower);
        Assert.Equal(upper.GetHashCode(), lower.GetHashCode());
        Assert.Equal("VectorHost.LOCAL", upper.ToString());
        Assert.NotEqual(DnsName.Parse("vectorhost.local"), DnsName.Parse("vectorhos.tlocal"));
        Assert.NotEqual(DnsName.Parse("a.local"), DnsName.Parse("a.b.local"));
    }

    [Fact]
    public void Only_ASCII_letters_fold()
    {
        Assert.NotEqual(DnsName.FromLabels("É", "local"), DnsName.FromLabels("é", "local"));
        Assert.NotEqual(DnsName.FromLabels("[", "local"), DnsName.FromLabels("{", "local"));   // 0x5B vs 0x7B
        Assert.Equal(DnsName.FromLabels("Ünïcode Name", "local"), DnsName.FromLabels("Ünïcode NAME", "local"));
    }

    [Fact]
    public void Root_is_the_default_and_parses_from_empty_or_dot()
    {
        Assert.True(default(DnsName).IsRoot);
        Assert.Equal(DnsName.Root, DnsName.Parse("."));
        Assert.Equal(DnsName.Root, DnsName.Parse(""));
        Assert.Equal(0, DnsName.Root.LabelCount);
        Assert.Equal(1, DnsName.Root.WireLength);
        Assert.Equal(".", DnsName.Root.ToString());
        Assert.Equal(DnsName.Root, DnsName.FromLabels());
    }

    [Fact]
    public void Labels_may_hold_dots_and_spaces_and_print_escaped()
    {
        DnsName name = DnsName.FromLabels("My Printer.v2", "_ipp", "_tcp", "local");

        Assert.Equal(4, name.LabelCount);
        Assert.Equal("My Printer.v2", name.GetLabel(0));
        Assert.Equal(@"My Printer\.v2._ipp._tcp.local", name.ToString());
        Assert.Equal(name, DnsName.Parse(name.ToString()));
        Assert.Equal(["My Printer.v2", "_ipp", "_tcp", "local"], name.Labels);
        Assert.Equal(1 + 13 + 1 + 4 + 1 + 4 + 1 + 5 + 1, name.WireLength);
    }

    [Fact]
    public void Binary_labels_round_trip_through_text()
    {
        DnsName name = DnsName.FromLabelBytes([[0x00, 0x41, 0x5C, 0xFF, 0x2E], [0x6C]]);

        Assert.Equal(@"\000A\\\255\..l", name.ToString());
        Assert.True(DnsName.Parse(name.ToString()).WireForm.SequenceEqual(name.WireForm));
        Assert.Equal(DnsName.FromLabelBytes([[0x41], [0x42]]), DnsName.Parse(@"\065.\066"));
    }

    [Fact]
    public void Skip_prepend_and_suffix_tests()
    {
        DnsName type = DnsName.Parse("_example-net._tcp.local");
        DnsName instance = type.Prepend("wluWCJp6bvtVhn0yaaTeM");

        Assert.Equal("wluWCJp6bvtVhn0yaaTeM._example-net._tcp.local", instance.ToString());
        Assert.Equal(type, instance.Skip(1));
        Assert.Equal(DnsName.Parse("local"), instance.Skip(3));
        Assert.Equal(DnsName.Root, instance.Skip(4));
        Assert.True(instance.EndsWith(DnsName.Parse("LOCAL")));
        Assert.True(instance.EndsWith(instance));
        Assert.True(instance.EndsWith(DnsName.Root));
        Assert.False(type.EndsWith(instance));
        Assert.False(instance.EndsWith(DnsName.Parse("cal")));
        Assert.Throws<ArgumentOutOfRangeException>(() => instance.Skip(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => instance.GetLabel(4));
    }

    [Fact]
    public void Limits_of_RFC_1035_are_enforced_on_creation()
    {
        string label63 = new('a', 63);
        DnsName longest = DnsName.FromLabels(label63, label63, label63, new string('b', 61));

        Assert.Equal(255, longest.WireLength);
        Assert.Throws<ArgumentException>(() => DnsName.FromLabels(label63, label63, label63, new string('b', 62)));
        Assert.Throws<ArgumentException>(() => longest.Prepend("x"));
        Assert.Throws<ArgumentException>(() => DnsName.FromLabels(new string('a', 64)));
        Assert.Throws<ArgumentException>(() => DnsName.FromLabels("ééééééééééééééééééééééééééééééééé"));   // 66 bytes of UTF-8
        Assert.Throws<ArgumentException>(() => DnsName.FromLabels("a", ""));
        Assert.Throws<ArgumentException>(() => DnsName.Parse("a..local"));
        Assert.Throws<ArgumentException>(() => DnsName.Parse(".local"));
        Assert.Throws<ArgumentException>(() => DnsName.Parse(@"a\"));
        Assert.Throws<ArgumentException>(() => DnsName.Parse(@"a\25"));
        Assert.Throws<ArgumentException>(() => DnsName.Parse(@"a\256"));
    }
}
