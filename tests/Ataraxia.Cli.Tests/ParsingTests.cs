using Ataraxia.Cbor;
using Ataraxia.Cli.Commands;

namespace Ataraxia.Cli.Tests;

/// <summary>The pieces that read the command line: JSON payloads, patterns, durations, peers, exposed commands.</summary>
public sealed class ParsingTests
{
    [Fact]
    public void Json_maps_to_cbor_kinds_as_javascript_would()
    {
        CborValue value = CborJson.Parse("""{"i":42,"neg":-7,"f":2.5,"big":9007199254740993,"s":"é\n","t":true,"n":null,"a":[1,"x",[]],"o":{}}""", "test");

        CborMap map = Assert.IsType<CborMap>(value);
        Assert.IsType<CborInteger>(map["i"]);
        Assert.Equal(-7, map["neg"].AsInt64());
        Assert.IsType<CborFloat>(map["f"]);
        Assert.IsType<CborFloat>(map["big"]); // beyond 2^53 - 1: a JavaScript number, not an exact integer
        Assert.Equal("é\n", map["s"].AsString());
        Assert.True(map["t"].AsBoolean());
        Assert.Equal(CborValueKind.Null, map["n"].Kind);
        Assert.Equal(new CborArray([1, "x", new CborArray([])]), map["a"]);
        Assert.Empty(Assert.IsType<CborMap>(map["o"]));
        Assert.Equal("""{"i":42,"neg":-7,"f":2.5,"big":9007199254740992,"s":"é\n","t":true,"n":null,"a":[1,"x",[]],"o":{}}""", CborJson.Format(value));
    }

    [Fact]
    public void Cbor_without_a_json_form_is_written_as_text()
    {
        var value = new CborMap
        {
            ["bytes"] = new byte[] { 1, 2, 255 },
            ["date"] = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
            ["nan"] = double.NaN,
            ["undefined"] = CborValue.Undefined,
        };

        Assert.Equal("""{"bytes":"AQL/","date":"2026-01-02T03:04:05.000Z","nan":"NaN","undefined":null}""", CborJson.Format(value));
    }

    [Theory]
    [InlineData("{bad")]
    [InlineData("[1,")]
    [InlineData("")]
    [InlineData("{} {}")]
    public void Invalid_json_is_a_usage_error_in_one_line(string text)
    {
        var error = Assert.Throws<CommandException>(() => CborJson.Parse(text, "The payload"));

        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.StartsWith("The payload is not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("""{"env":"prod"}""", """{"env":"prod","version":3}""", true)]
    [InlineData("""{"env":"prod"}""", """{"env":"test"}""", false)]
    [InlineData("""{"env":"prod"}""", """{"other":1}""", false)]
    [InlineData("""{"env":"prod"}""", """["env","prod"]""", false)]
    [InlineData("""{"a":{"b":1}}""", """{"a":{"b":1.0,"c":2}}""", true)]
    [InlineData("""{"a":{"b":1}}""", """{"a":{"b":2}}""", false)]
    [InlineData("""[1,{"x":true}]""", """[1,{"x":true,"y":0}]""", true)]
    [InlineData("""[1]""", """[1,2]""", false)]
    [InlineData("""{"gone":null}""", """{"gone":null}""", true)]
    [InlineData("""{}""", """{"anything":1}""", true)]
    [InlineData("""3""", """3""", true)]
    [InlineData("3", "\"3\"", false)]
    public void A_pattern_matches_a_payload_that_contains_it(string pattern, string payload, bool matches) =>
        Assert.Equal(matches, CborJson.Matches(CborJson.Parse(pattern, "pattern"), CborJson.Parse(payload, "payload")));

    [Fact]
    public void Wait_filters_by_type_sender_and_pattern()
    {
        NodeId sender = NodeId.NewId();
        NodeId other = NodeId.NewId();
        string prefix = sender.ToString()[..8];
        CborValue pattern = CborJson.Parse("""{"env":"prod"}""", "pattern");
        CborValue prod = CborJson.Parse("""{"env":"prod","v":1}""", "data");

        Assert.True(WaitCommand.Accepts(sender, "deploy", () => prod, "deploy", prefix, pattern));
        Assert.True(WaitCommand.Accepts(other, "deploy", () => prod, "deploy", null, null));
        Assert.False(WaitCommand.Accepts(other, "deploy", () => prod, "deploy", prefix, pattern));
        Assert.False(WaitCommand.Accepts(sender, "rollback", () => prod, "deploy", prefix, pattern));
        Assert.False(WaitCommand.Accepts(sender, "deploy", () => CborValue.Null, "deploy", prefix, pattern));
        Assert.False(WaitCommand.Accepts(sender, "deploy", () => throw new CborException("bad payload"), "deploy", null, pattern));
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("10s", 10_000)]
    [InlineData("1.5m", 90_000)]
    [InlineData("2h", 7_200_000)]
    [InlineData("3", 3_000)]
    public void Durations_take_a_unit(string text, int milliseconds)
    {
        Assert.True(Duration.TryParse(text, out TimeSpan value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-1s")]
    [InlineData("1d")]
    [InlineData("")]
    public void Durations_without_a_number_and_known_unit_are_refused(string text) => Assert.False(Duration.TryParse(text, out _));

    [Theory]
    [InlineData("127.0.0.1:7000", "127.0.0.1", 7000)]
    [InlineData("mesh.example:1", "mesh.example", 1)]
    [InlineData("[::1]:65535", "::1", 65535)]
    public void Peers_are_host_and_port(string text, string host, int port)
    {
        System.Net.DnsEndPoint peer = MeshOptions.ParsePeer(text);

        Assert.Equal(host, peer.Host);
        Assert.Equal(port, peer.Port);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData(":7000")]
    [InlineData("a:b:7000")]
    public void Peers_without_a_valid_port_are_refused(string text) =>
        Assert.Equal(ExitCodes.Usage, Assert.Throws<CommandException>(() => MeshOptions.ParsePeer(text)).ExitCode);

    [Fact]
    public void A_bare_tcp_option_gets_port_0_and_leaves_the_next_word_alone()
    {
        Assert.Equal(["wait", "--tcp=0", "ready"], MeshOptions.ExpandBareTcp(["wait", "--tcp", "ready"]));
        Assert.Equal(["listen", "--tcp=0"], MeshOptions.ExpandBareTcp(["listen", "--tcp"]));
        Assert.Equal(["listen", "--tcp", "7000"], MeshOptions.ExpandBareTcp(["listen", "--tcp", "7000"]));
        Assert.Equal(["send", "--", "--tcp", "x"], MeshOptions.ExpandBareTcp(["send", "--", "--tcp", "x"]));
    }

    [Fact]
    public void Everything_after_exec_belongs_to_the_command()
    {
        (string[] own, string[]? exec) = Program.SplitExec(["wait", "job", "--exec", "sh", "-c", "exit 3", "--json"]);

        Assert.Equal(["wait", "job"], own);
        Assert.Equal(["sh", "-c", "exit 3", "--json"], exec!);
        Assert.Null(Program.SplitExec(["wait", "job"]).Exec);
    }

    [Theory]
    [InlineData("uptime=uptime", "uptime", "uptime", new string[0])]
    [InlineData("logs=journalctl -u my app -n 50", "logs", "journalctl", new[] { "-u", "my", "app", "-n", "50" })]
    [InlineData("greet=printf '%s and %s' ", "greet", "printf", new[] { "%s and %s" })]
    [InlineData("""q="/usr/bin/my tool" "say \"hi\"" a\ b""", "q", "/usr/bin/my tool", new[] { "say \"hi\"", "a b" })]
    [InlineData("x=sh -c 'echo $HOME | wc -c'", "x", "sh", new[] { "-c", "echo $HOME | wc -c" })]
    public void Exposed_commands_are_split_into_words_like_a_shell_would_without_running_one(string text, string name, string program, string[] arguments)
    {
        ExposedCommand command = ExposedCommand.Parse(text);

        Assert.Equal(name, command.Name);
        Assert.Equal(program, command.Program);
        Assert.Equal(arguments, command.Arguments);
    }

    [Theory]
    [InlineData("no-equals")]
    [InlineData("=echo")]
    [InlineData("name=")]
    [InlineData("two words=echo")]
    [InlineData("x='open")]
    [InlineData("x=\"open")]
    public void Exposed_commands_that_do_not_parse_are_usage_errors(string text) =>
        Assert.Equal(ExitCodes.Usage, Assert.Throws<CommandException>(() => ExposedCommand.Parse(text)).ExitCode);

    [Fact]
    public void Call_arguments_are_json_or_else_text()
    {
        Assert.Equal(CborValue.FromInt64(42), CallCommand.ParseArgument("42", 1));
        Assert.Equal(CborValue.True, CallCommand.ParseArgument("true", 1));
        Assert.Equal(CborValue.FromString("hello world"), CallCommand.ParseArgument("hello world", 1));
        Assert.Equal(CborValue.FromString("/tmp"), CallCommand.ParseArgument("/tmp", 1));
        Assert.Equal(CborValue.FromString("42"), CallCommand.ParseArgument("\"42\"", 1));
        Assert.Equal(new CborMap { ["a"] = 1 }, CallCommand.ParseArgument("""{"a":1}""", 1));

        // What looks like JSON must be JSON.
        Assert.Equal(ExitCodes.Usage, Assert.Throws<CommandException>(() => CallCommand.ParseArgument("{a:1}", 2)).ExitCode);
        Assert.Equal(ExitCodes.Usage, Assert.Throws<CommandException>(() => CallCommand.ParseArgument("[1,", 2)).ExitCode);
    }
}
