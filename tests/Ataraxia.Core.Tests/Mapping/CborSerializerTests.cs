using System.Collections.Concurrent;
using System.Collections.ObjectModel;
using System.Text;
using Ataraxia.Cbor;
using Ataraxia.Testing;

namespace Ataraxia.Tests.Mapping;

#pragma warning disable CA2263 // The non-generic entry points are under test too.

/// <summary>
/// <see cref="CborSerializer"/>: .NET values ↔ <see cref="CborValue"/> with JavaScript semantics (WIRE.md §7.3).
/// </summary>
public class CborSerializerTests
{
    // ---------------------------------------------------------------- primitives

    public static TheoryData<object?, Type, string> Primitives => new()
    {
        { null, typeof(string), "f6" },
        { true, typeof(bool), "f5" },
        { false, typeof(bool), "f4" },
        { (sbyte)-128, typeof(sbyte), "387f" },
        { (byte)255, typeof(byte), "18ff" },
        { (short)-32768, typeof(short), "397fff" },
        { (ushort)65535, typeof(ushort), "19ffff" },
        { int.MinValue, typeof(int), "3a7fffffff" },
        { -1, typeof(int), "20" },
        { uint.MaxValue, typeof(uint), "1affffffff" },
        { 9007199254740991L, typeof(long), "1b001fffffffffffff" },
        { -9007199254740991L, typeof(long), "3b001ffffffffffffe" },
        { 9007199254740991UL, typeof(ulong), "1b001fffffffffffff" },
        { (Int128)5, typeof(Int128), "05" },
        { 1.5, typeof(double), "fa3fc00000" },
        { 0.1, typeof(double), "fb3fb999999999999a" },
        { 2.0, typeof(double), "02" },
        { 1.5f, typeof(float), "fa3fc00000" },
        { 2.5m, typeof(decimal), "fa40200000" },
        { (Half)0.5, typeof(Half), "fa3f000000" },
        { "héllo", typeof(string), "6668c3a96c6c6f" },
        { 'x', typeof(char), "6178" },
        { Color.Green, typeof(Color), "65477265656e" },
        { (Color)42, typeof(Color), "182a" },
        { TimeSpan.FromMilliseconds(1500), typeof(TimeSpan), "1905dc" },
        { TimeSpan.FromTicks(2500), typeof(TimeSpan), "fa3e800000" },
        { new DateOnly(2024, 2, 29), typeof(DateOnly), "6a323032342d30322d3239" },
        { new TimeOnly(13, 45, 30), typeof(TimeOnly), "6831333a34353a3330" },
        { 5, typeof(int?), "05" },
        { null, typeof(int?), "f6" },
        { new Uri("https://example.org/a"), typeof(Uri), "7568747470733a2f2f6578616d706c652e6f72672f61" },
        { new Version(1, 2, 3), typeof(Version), "65312e322e33" },
    };

    [Theory]
    [MemberData(nameof(Primitives))]
    public void PrimitivesRoundTripWithJavaScriptEncoding(object? value, Type type, string hex)
    {
        CborValue cbor = CborSerializer.ToValue(value, type);
        Assert.Equal(hex, Convert.ToHexStringLower(cbor.Encode()));
        Assert.Equal(value, CborSerializer.FromValue(CborValue.Decode(Convert.FromHexString(hex)), type));
    }

    [Fact]
    public void ByteTypesMapToByteStrings()
    {
        byte[] bytes = [1, 2, 3];
        Assert.Equal("43010203", Convert.ToHexStringLower(CborSerializer.Serialize(bytes)));
        Assert.Equal("43010203", Convert.ToHexStringLower(CborSerializer.Serialize(new ReadOnlyMemory<byte>(bytes))));
        Assert.Equal("43010203", Convert.ToHexStringLower(CborSerializer.Serialize(new Memory<byte>(bytes))));

        byte[] encoded = Convert.FromHexString("43010203");
        Assert.Equal(bytes, CborSerializer.Deserialize<byte[]>(encoded));
        Assert.Equal(bytes, CborSerializer.Deserialize<ReadOnlyMemory<byte>>(encoded).ToArray());
        Assert.Equal(bytes, CborSerializer.Deserialize<Memory<byte>>(encoded).ToArray());

        // The byte[] read is a copy: changing it does not change the CBOR value.
        var value = new CborBytes(bytes);
        byte[] copy = CborSerializer.FromValue<byte[]>(value)!;
        copy[0] = 99;
        Assert.Equal(1, value.Value.Span[0]);
    }

    [Fact]
    public void NumbersConvertBetweenIntegerAndFloat()
    {
        Assert.Equal(3.0, CborSerializer.FromValue<double>(3));
        Assert.Equal(3, CborSerializer.FromValue<int>(3.0));
        Assert.Equal(10000000000000000000UL, CborSerializer.FromValue<ulong>(1e19));
        Assert.Equal(0.1m, CborSerializer.FromValue<decimal>(0.1));
        Assert.Equal(42m, CborSerializer.FromValue<decimal>(42));
        Assert.Equal(2.5f, CborSerializer.FromValue<float>(2.5));

        Assert.Contains("out of range", Assert.Throws<CborException>(() => CborSerializer.FromValue<float>(1e300)).Message, StringComparison.Ordinal);
        Assert.Contains("System.Int32", Assert.Throws<CborException>(() => CborSerializer.FromValue<int>(1.5)).Message, StringComparison.Ordinal);
        Assert.Contains("out of range", Assert.Throws<CborException>(() => CborSerializer.FromValue<decimal>(double.NaN)).Message, StringComparison.Ordinal);
    }

    public static TheoryData<CborValue, Type> OutOfRangeIntegers => new()
    {
        { 300, typeof(byte) },
        { -1, typeof(byte) },
        { 128, typeof(sbyte) },
        { -129, typeof(sbyte) },
        { 65536, typeof(ushort) },
        { -32769, typeof(short) },
        { -1, typeof(uint) },
        { 4294967296L, typeof(uint) },
        { 2147483648L, typeof(int) },
        { -1, typeof(ulong) },
        { 1e20, typeof(ulong) },
        { 1e19, typeof(long) },
        { 256, typeof(ByteColor) },
    };

    [Theory]
    [MemberData(nameof(OutOfRangeIntegers))]
    public void OutOfRangeIntegersAreRejectedOnRead(CborValue value, Type type)
    {
        var exception = Assert.Throws<CborException>(() => CborSerializer.FromValue(value, type));
        Assert.Contains(type.FullName!, exception.Message, StringComparison.Ordinal);
        Assert.Contains("out of range", exception.Message, StringComparison.Ordinal);
        Assert.Contains(" at $", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IntegersBeyondTheJavaScriptSafeRangeAreRejectedOnWrite()
    {
        Assert.Equal("1b001fffffffffffff", Convert.ToHexStringLower(CborSerializer.Serialize(9007199254740991L)));

        foreach (object value in new object[] { 9007199254740992L, -9007199254740992L, long.MaxValue, long.MinValue, ulong.MaxValue, (Int128)1 << 60 })
        {
            var exception = Assert.Throws<CborException>(() => CborSerializer.ToValue(value, value.GetType()));
            Assert.Contains("2^53", exception.Message, StringComparison.Ordinal);
            Assert.Contains("JavaScript", exception.Message, StringComparison.Ordinal);
        }

        var nested = Assert.Throws<CborException>(() => CborSerializer.ToValue(new Counter("big", 1L << 53)));
        Assert.Contains("System.Int64", nested.Message, StringComparison.Ordinal);
        Assert.Contains("$.value", nested.Message, StringComparison.Ordinal);

        // As a double the number is fine (JavaScript has it, just not as a safe integer).
        Assert.Equal("fa5a000000", Convert.ToHexStringLower(CborSerializer.Serialize(9007199254740992.0)));
    }

    [Fact]
    public void GuidIsTextInTheDFormat()
    {
        var guid = Guid.Parse("d3b07384-d9a0-4c9f-8a3b-0e2f1f4a5b6c");
        CborValue value = CborSerializer.ToValue(guid);
        Assert.Equal("d3b07384-d9a0-4c9f-8a3b-0e2f1f4a5b6c", value.AsString());
        Assert.Equal("7824" + Convert.ToHexStringLower(Encoding.UTF8.GetBytes("d3b07384-d9a0-4c9f-8a3b-0e2f1f4a5b6c")), Convert.ToHexStringLower(value.Encode()));

        Assert.Equal(guid, CborSerializer.FromValue<Guid>(value));
        Assert.Equal(guid, CborSerializer.FromValue<Guid>("{D3B07384-D9A0-4C9F-8A3B-0E2F1F4A5B6C}"));
        Assert.Contains("System.Guid", Assert.Throws<CborException>(() => CborSerializer.FromValue<Guid>("nope")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DatesAreWholeSecondsInUtcLikeJavaScript()
    {
        // payload/date: JavaScript sends new Date("2021-12-18T10:20:30.456Z") without the milliseconds.
        string expected = Vectors.Get("payload/date").GetProperty("hex").GetString()!;
        Assert.Equal("c074323032312d31322d31385431303a32303a33305a", expected);
        var instant = new DateTimeOffset(2021, 12, 18, 10, 20, 30, 456, TimeSpan.Zero);
        var wholeSeconds = new DateTimeOffset(2021, 12, 18, 10, 20, 30, TimeSpan.Zero);

        CborValue value = CborSerializer.ToValue(instant);
        Assert.Equal(CborValueKind.Date, value.Kind);
        Assert.Equal(wholeSeconds, value.AsDateTimeOffset());
        Assert.Equal(expected, Convert.ToHexStringLower(value.Encode()));

        // Another offset is the same instant; DateTime of unspecified kind counts as UTC, a local one is converted.
        Assert.Equal(expected, Convert.ToHexStringLower(CborSerializer.Serialize(instant.ToOffset(TimeSpan.FromHours(2)))));
        Assert.Equal(expected, Convert.ToHexStringLower(CborSerializer.Serialize(new DateTime(2021, 12, 18, 10, 20, 30, 999, DateTimeKind.Unspecified))));
        Assert.Equal(expected, Convert.ToHexStringLower(CborSerializer.Serialize(instant.LocalDateTime)));
        Assert.Equal(expected, Convert.ToHexStringLower(CborSerializer.Serialize(instant.UtcDateTime)));

        DateTimeOffset read = CborSerializer.Deserialize<DateTimeOffset>(Convert.FromHexString(expected));
        Assert.Equal(wholeSeconds, read);
        Assert.Equal(TimeSpan.Zero, read.Offset);
        DateTime readDateTime = CborSerializer.Deserialize<DateTime>(Convert.FromHexString(expected));
        Assert.Equal(DateTimeKind.Utc, readDateTime.Kind);
        Assert.Equal(wholeSeconds.UtcDateTime, readDateTime);

        // Tag 1 (epoch seconds, with milliseconds) and ISO 8601 text are accepted too.
        Assert.Equal(instant, CborSerializer.Deserialize<DateTimeOffset>(Convert.FromHexString("c1fb41d86f6d7b9d2f1b")));
        Assert.Equal(new DateTimeOffset(2021, 12, 18, 9, 20, 30, 500, TimeSpan.Zero), CborSerializer.FromValue<DateTimeOffset>("2021-12-18T10:20:30.5+01:00"));
        Assert.Throws<CborException>(() => CborSerializer.FromValue<DateTime>("yesterday"));
    }

    [Fact]
    public void EnumsAreWrittenByNameAndReadByNameIgnoringCaseOrByNumber()
    {
        Assert.Equal("Green", CborSerializer.ToValue(Color.Green).AsString());
        Assert.Equal(Color.Green, CborSerializer.FromValue<Color>("Green"));
        Assert.Equal(Color.Green, CborSerializer.FromValue<Color>("green"));
        Assert.Equal(Color.Green, CborSerializer.FromValue<Color>("GREEN"));
        Assert.Equal(Color.Green, CborSerializer.FromValue<Color>(1));
        Assert.Equal((Color)42, CborSerializer.FromValue<Color>(42));

        Permissions both = Permissions.Read | Permissions.Write;
        Assert.Equal("Read, Write", CborSerializer.ToValue(both).AsString());
        Assert.Equal(both, CborSerializer.FromValue<Permissions>("read, write"));
        Assert.Equal(both, CborSerializer.FromValue<Permissions>(3));

        var exception = Assert.Throws<CborException>(() => CborSerializer.FromValue<Color>("purple"));
        Assert.Contains(typeof(Color).FullName!, exception.Message, StringComparison.Ordinal);
        Assert.Contains("\"purple\"", exception.Message, StringComparison.Ordinal);
        Assert.Throws<CborException>(() => CborSerializer.FromValue<Color>(true));
    }

    [Fact]
    public void CharMustBeOneCodeUnit()
    {
        Assert.Equal('é', CborSerializer.FromValue<char>("é"));
        Assert.Throws<CborException>(() => CborSerializer.FromValue<char>("ab"));
        Assert.Throws<CborException>(() => CborSerializer.FromValue<char>(""));
    }

    // ---------------------------------------------------------------- null and undefined

    [Fact]
    public void UndefinedReadsAsNullOrDefault()
    {
        Assert.Equal(0, CborSerializer.FromValue<int>(CborValue.Undefined));
        Assert.Null(CborSerializer.FromValue<int?>(CborValue.Undefined));
        Assert.Null(CborSerializer.FromValue<string>(CborValue.Undefined));
        Assert.Null(CborSerializer.FromValue<Point>(CborValue.Undefined));
        Assert.Null(CborSerializer.FromValue<object>(CborValue.Undefined));
        Assert.Equal(new[] { 1, 0, 3 }, CborSerializer.FromValue<int[]>(new CborArray([1, CborValue.Undefined, 3])));
        Assert.Equal([null, "a"], CborSerializer.FromValue<List<string?>>(new CborArray([CborValue.Undefined, "a"])));
    }

    [Fact]
    public void NullReadsAsNullButNotIntoNonNullableValueTypes()
    {
        Assert.Null(CborSerializer.FromValue<int?>(CborValue.Null));
        Assert.Null(CborSerializer.FromValue<string>(CborValue.Null));
        Assert.Null(CborSerializer.FromValue<List<int>>(CborValue.Null));

        var top = Assert.Throws<CborException>(() => CborSerializer.FromValue<int>(CborValue.Null));
        Assert.Contains("null to System.Int32 at $", top.Message, StringComparison.Ordinal);

        var nested = Assert.Throws<CborException>(() => CborSerializer.FromValue<Point>(new CborMap { ["x"] = CborValue.Null, ["y"] = 1 }));
        Assert.Contains("System.Int32 at $.x", nested.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UndefinedMapEntriesCountAsAbsent()
    {
        // payload/map/undefined-value: { x: undefined, y: null }
        byte[] encoded = Convert.FromHexString(Vectors.Get("payload/map/undefined-value").GetProperty("hex").GetString()!);
        Assert.Equal("a26178f76179f6", Convert.ToHexStringLower(encoded));

        Defaults read = CborSerializer.Deserialize<Defaults>(encoded)!;
        Assert.Equal(7, read.X);      // undefined leaves the initializer's value
        Assert.Null(read.Y);          // null is null

        WithDefaultParameter positional = CborSerializer.Deserialize<WithDefaultParameter>(Convert.FromHexString("a2646e616d656161656c696d6974f7"))!;
        Assert.Equal(new WithDefaultParameter("a"), positional);

        // A CborValue-typed property receives undefined as it is.
        RawHolder raw = CborSerializer.Deserialize<RawHolder>(encoded)!;
        Assert.Same(CborValue.Undefined, raw.X);
        Assert.Same(CborValue.Null, raw.Y);
    }

    [Fact]
    public void NullPropertiesAreWrittenAsNull()
    {
        CborMap map = CborSerializer.ToValue(new Contact("Ann", null, null)).AsMap();
        Assert.Equal(["name", "email", "tags"], map.Keys);
        Assert.Same(CborValue.Null, map["email"]);
        Assert.Same(CborValue.Null, map["tags"]);
    }

    // ---------------------------------------------------------------- objects

    [Fact]
    public void RecordKeysAreCamelCaseInDeclarationOrder()
    {
        CborValue value = CborSerializer.ToValue(new Point(1, 2));
        Assert.Equal(["x", "y"], value.AsMap().Keys);
        Assert.Equal("a2617801617902", Convert.ToHexStringLower(value.Encode()));
        Assert.Equal(new Point(1, 2), CborSerializer.Deserialize<Point>(Convert.FromHexString("a2617801617902")));
    }

    [Fact]
    public void NamesFollowTheCamelCasePolicyAndAttributes()
    {
        var naming = new Naming { ID = 5, URLValue = "u", FirstName = "Ann", Renamed = 3, Secret = "s" };
        CborMap map = CborSerializer.ToValue(naming).AsMap();
        Assert.Equal(["id", "urlValue", "firstName", "custom_key", "last"], map.Keys);
        Assert.Equal(new CborMap { ["id"] = 5, ["urlValue"] = "u", ["firstName"] = "Ann", ["custom_key"] = 3, ["last"] = CborValue.Null }, map);

        // Keys match ignoring case; ignored properties and unknown keys are not read.
        var input = new CborMap { ["Id"] = 6, ["URLVALUE"] = "v", ["FIRSTNAME"] = "Bo", ["custom_key"] = 4, ["secret"] = "x", ["renamed"] = 99, ["unknown"] = 1 };
        Naming read = CborSerializer.FromValue<Naming>(input)!;
        Assert.Equal(6, read.ID);
        Assert.Equal("v", read.URLValue);
        Assert.Equal("Bo", read.FirstName);
        Assert.Equal(4, read.Renamed);
        Assert.Null(read.Secret);
    }

    [Fact]
    public void ExactKeyMatchWinsOverCaseInsensitiveMatch()
    {
        CasePair read = CborSerializer.FromValue<CasePair>(new CborMap { ["value"] = 1, ["VALUE"] = 2 })!;
        Assert.Equal(1, read.Lower);
        Assert.Equal(2, read.Upper);
    }

    [Fact]
    public void PositionalRecordsAreCreatedThroughTheirConstructor()
    {
        // Missing keys get the parameter's default; keys match parameter names ignoring case.
        Server read = CborSerializer.FromValue<Server>(new CborMap { ["NAME"] = "a", ["extra"] = true })!;
        Assert.Equal(new Server("a", 8080, Color.Blue), read);

        Server full = CborSerializer.FromValue<Server>(new CborMap { ["name"] = "b", ["port"] = 1, ["color"] = "red" })!;
        Assert.Equal(new Server("b", 1, Color.Red), full);

        // Init properties outside the constructor are set afterwards.
        Note note = CborSerializer.FromValue<Note>(new CborMap { ["title"] = "t", ["body"] = "b" })!;
        Assert.Equal("t", note.Title);
        Assert.Equal("b", note.Body);
        Assert.Equal(new CborMap { ["title"] = "t", ["body"] = "b" }, CborSerializer.ToValue(note));
    }

    [Fact]
    public void ClassesWithAParameterlessConstructorAreFilledThroughSetters()
    {
        var settings = new Settings { Name = "n", Retries = 3 };
        settings.Tags.Add("a");
        CborMap written = CborSerializer.ToValue(settings).AsMap();
        Assert.Equal(new CborMap { ["name"] = "n", ["retries"] = 3, ["tags"] = new CborArray(["a"]), ["doubled"] = 6 }, written);

        // Get-only properties (here a collection and a computed value) are not read.
        Settings read = CborSerializer.FromValue<Settings>(new CborMap { ["name"] = "m", ["retries"] = 4, ["tags"] = new CborArray(["x"]), ["doubled"] = 99 })!;
        Assert.Equal("m", read.Name);
        Assert.Equal(4, read.Retries);
        Assert.Empty(read.Tags);
        Assert.Equal(8, read.Doubled);
    }

    [Fact]
    public void ConstructorParametersMayHaveOtherTypesThanTheirProperties()
    {
        Immutable read = CborSerializer.FromValue<Immutable>(new CborMap { ["name"] = "n", ["values"] = new CborArray([1, 2]) })!;
        Assert.Equal("n", read.Name);
        Assert.Equal([1, 2], read.Values);
    }

    [Fact]
    public void TypesThatCannotBeCreatedFailOnReadOnly()
    {
        Assert.Equal(new CborMap { ["a"] = 1 }, CborSerializer.ToValue(NoConstructor.Create(1)));
        var exception = Assert.Throws<CborException>(() => CborSerializer.FromValue<NoConstructor>(new CborMap { ["a"] = 1 }));
        Assert.Contains("constructor", exception.Message, StringComparison.Ordinal);
        Assert.Contains(typeof(NoConstructor).FullName!, exception.Message, StringComparison.Ordinal);

        var ambiguous = Assert.Throws<CborException>(() => CborSerializer.FromValue<Ambiguous>(new CborMap { ["a"] = 1 }));
        Assert.Contains("constructors", ambiguous.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StructsAndRecordStructsRoundTrip()
    {
        var point = new PointStruct(3, -4);
        Assert.Equal("a2617803617923", Convert.ToHexStringLower(CborSerializer.Serialize(point)));
        Assert.Equal(point, CborSerializer.Deserialize<PointStruct>(Convert.FromHexString("a2617803617923")));

        var size = new Size(2.5, 4);
        Assert.Equal(size, CborSerializer.FromValue<Size>(CborSerializer.ToValue(size)));

        var mutable = new MutableStruct { Count = 9, Label = "l" };
        Assert.Equal(mutable, CborSerializer.FromValue<MutableStruct>(CborSerializer.ToValue(mutable)));
    }

    [Fact]
    public void InheritedPropertiesComeFirstAndTheDeclaredTypeDecides()
    {
        var derived = new Derived { Id = 1, Name = "d" };
        Assert.Equal(["id", "name"], CborSerializer.ToValue(derived).AsMap().Keys);
        Assert.Equal(["id"], CborSerializer.ToValue<Base>(derived).AsMap().Keys);
        Assert.Equal(["id", "name"], CborSerializer.ToValue<object>(derived).AsMap().Keys);

        // Interface-typed values are written by their runtime type, but cannot be read.
        CborValue zoo = CborSerializer.ToValue(new Zoo(new Dog("Rex", "collie")));
        Assert.Equal(new CborMap { ["animal"] = new CborMap { ["name"] = "Rex", ["breed"] = "collie" } }, zoo);
        var exception = Assert.Throws<CborException>(() => CborSerializer.FromValue<Zoo>(zoo));
        Assert.Contains("$.animal", exception.Message, StringComparison.Ordinal);
        Assert.Contains("interface", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnonymousTypesRoundTrip()
    {
        var anonymous = new { Name = "a", Count = 2, Nested = new { Flag = true } };
        CborValue value = CborSerializer.ToValue(anonymous);
        Assert.Equal(new CborMap { ["name"] = "a", ["count"] = 2, ["nested"] = new CborMap { ["flag"] = true } }, value);
        Assert.Equal(anonymous, ReadAs(anonymous, value));
    }

    [Fact]
    public void NestedRecordsWithListsAndDictionariesRoundTrip()
    {
        var order = new Order(
            "o-1",
            [new Line("apple", 3, 0.5m), new Line("pear", 1, 2.25m)],
            new Dictionary<string, Line> { ["first"] = new Line("plum", 2, 1m) },
            new Customer("Ann", ["vip", "eu"]),
            new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero));

        byte[] encoded = CborSerializer.Serialize(order);
        CborMap map = CborValue.Decode(encoded).AsMap();
        Assert.Equal(["id", "lines", "byCode", "customer", "placed"], map.Keys);
        Assert.Equal(["sku", "quantity", "price"], map["lines"].AsArray()[0].AsMap().Keys);

        Order read = CborSerializer.Deserialize<Order>(encoded)!;
        Assert.Equal(order.Id, read.Id);
        Assert.Equal(order.Lines, read.Lines);
        Assert.Equal(order.ByCode, read.ByCode);
        Assert.Equal(order.Customer!.Name, read.Customer!.Name);
        Assert.Equal(order.Customer.Tags, read.Customer.Tags);
        Assert.Equal(order.Placed, read.Placed);
        Assert.Equal(encoded, CborSerializer.Serialize(read));
    }

    [Fact]
    public void JavaScriptPayloadsReadIntoRecords()
    {
        // payload/map/nested: { outer: { list: [ { k: "v" } ], flag: false } }
        string hex = Vectors.Get("payload/map/nested").GetProperty("hex").GetString()!;
        Assert.Equal("a1656f75746572a2646c69737481a1616b617664666c6167f4", hex);
        Envelope envelope = CborSerializer.Deserialize<Envelope>(Convert.FromHexString(hex))!;
        Assert.False(envelope.Outer.Flag);
        Assert.Equal([new Entry("v")], envelope.Outer.List);
        Assert.Equal(hex, Convert.ToHexStringLower(CborSerializer.Serialize(envelope)));

        // payload/map/class-instance: { z: 1, a: "two" } — declaration order is the key order, as in JavaScript.
        string instanceHex = Vectors.Get("payload/map/class-instance").GetProperty("hex").GetString()!;
        Assert.Equal(new ZFirst(1, "two"), CborSerializer.Deserialize<ZFirst>(Convert.FromHexString(instanceHex)));
        Assert.Equal(instanceHex, Convert.ToHexStringLower(CborSerializer.Serialize(new ZFirst(1, "two"))));

        // payload/map/simple: { a: 1, b: "x" }, read as a dictionary of objects.
        string simpleHex = Vectors.Get("payload/map/simple").GetProperty("hex").GetString()!;
        var simple = Assert.IsType<Dictionary<string, object?>>(CborSerializer.Deserialize<object>(Convert.FromHexString(simpleHex)));
        Assert.Equal(new Dictionary<string, object?> { ["a"] = 1L, ["b"] = "x" }, simple);
    }

    // ---------------------------------------------------------------- collections

    [Fact]
    public void CollectionsRoundTripAsArrays()
    {
        var collections = new Collections(
            [1, 2],
            ["a", "b"],
            [3],
            [4, 5],
            [6],
            [7, 8],
            ["x"],
            new HashSet<int> { 9 },
            [10],
            new ReadOnlyCollection<int>([11]),
            new Queue<int>([12, 13]),
            []);
        CborMap map = CborSerializer.ToValue(collections).AsMap();
        Assert.Equal(new CborArray([1, 2]), map["array"]);
        Assert.Equal(new CborArray(["a", "b"]), map["list"]);
        Assert.Equal(new CborArray([12, 13]), map["queue"]);
        Assert.Equal(new CborArray([]), map["empty"]);

        Collections read = CborSerializer.FromValue<Collections>(map)!;
        Assert.Equal(collections.Array, read.Array);
        Assert.Equal(collections.List, read.List);
        Assert.Equal(collections.IList, read.IList);
        Assert.Equal(collections.ReadOnlyList, read.ReadOnlyList);
        Assert.Equal(collections.Enumerable, read.Enumerable);
        Assert.Equal(collections.Collection, read.Collection);
        Assert.Equal(collections.HashSet, read.HashSet);
        Assert.Equal(collections.Set, read.Set);
        Assert.Equal(collections.ReadOnlyCollection, read.ReadOnlyCollection);
        Assert.Equal(collections.Wrapped, read.Wrapped);
        Assert.Equal(collections.Queue, read.Queue);
        Assert.Empty(read.Empty);

        Assert.IsType<List<int>>(read.Enumerable);
        Assert.IsType<List<int>>(read.IList);
        Assert.IsType<HashSet<int>>(read.Set);
        Assert.IsType<ReadOnlyCollection<int>>(read.Wrapped);

        Assert.Equal(new[] { new[] { 1 }, new[] { 2, 3 } }, CborSerializer.FromValue<int[][]>(CborSerializer.ToValue(new[] { new[] { 1 }, new[] { 2, 3 } })));
        Assert.Equal(new CborArray([1, 2, 3]), CborSerializer.ToValue(Enumerable.Range(1, 3)));
    }

    [Fact]
    public void DictionariesWithNonStringKeysUsePropertyNames()
    {
        var id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        var dictionaries = new Dictionaries(
            new Dictionary<string, int> { ["b"] = 1, ["a"] = 2 },
            new Dictionary<int, string> { [10] = "ten", [2] = "two", [-1] = "minus one" },
            new Dictionary<long, bool> { [1L << 40] = true },
            new Dictionary<Guid, int> { [id] = 1 },
            new Dictionary<Color, int> { [Color.Blue] = 3 },
            new SortedDictionary<string, int> { ["k"] = 4 },
            new ReadOnlyDictionary<string, int>(new Dictionary<string, int> { ["r"] = 5 }));

        CborMap map = CborSerializer.ToValue(dictionaries).AsMap();
        Assert.Equal(["b", "a"], map["byName"].AsMap().Keys);

        // JavaScript property order: integer-like keys ascending first, then the rest in insertion order.
        Assert.Equal(["2", "10", "-1"], map["byInt"].AsMap().Keys);
        Assert.Equal(["1099511627776"], map["byLong"].AsMap().Keys);
        Assert.Equal(["0f8fad5b-d9cb-469f-a165-70867728950e"], map["byGuid"].AsMap().Keys);
        Assert.Equal(["Blue"], map["byEnum"].AsMap().Keys);

        Dictionaries read = CborSerializer.FromValue<Dictionaries>(map)!;
        Assert.Equal(dictionaries.ByName, read.ByName);
        Assert.Equal(dictionaries.ByInt.OrderBy(e => e.Key), read.ByInt.OrderBy(e => e.Key));
        Assert.Equal(dictionaries.ByLong, read.ByLong);
        Assert.Equal(dictionaries.ByGuid, read.ByGuid);
        Assert.Equal(dictionaries.ByEnum, read.ByEnum);
        Assert.Equal(dictionaries.Sorted, read.Sorted);
        Assert.Equal(dictionaries.ReadOnly, read.ReadOnly);
        Assert.IsType<Dictionary<int, string>>(read.ByInt);
        Assert.IsType<SortedDictionary<string, int>>(read.Sorted);

        // Enum keys read ignoring case.
        Assert.Equal(3, CborSerializer.FromValue<Dictionary<Color, int>>(new CborMap { ["blue"] = 3 })![Color.Blue]);
    }

    [Fact]
    public void InvalidDictionaryKeysNameTheKey()
    {
        var exception = Assert.Throws<CborException>(() => CborSerializer.FromValue<Dictionaries>(
            new CborMap { ["byInt"] = new CborMap { ["1"] = "one", ["one"] = "x" } }));
        Assert.Contains("System.Int32", exception.Message, StringComparison.Ordinal);
        Assert.Contains("$.byInt.one", exception.Message, StringComparison.Ordinal);

        var unsupported = Assert.Throws<CborException>(() => CborSerializer.ToValue(new Dictionary<Point, int> { [new Point(1, 2)] = 1 }));
        Assert.Contains("dictionary keys", unsupported.Message, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- object and CborValue

    [Fact]
    public void ObjectValuesAreWrittenByRuntimeType()
    {
        var value = new Dictionary<string, object?>
        {
            ["n"] = 1,
            ["d"] = 1.5,
            ["s"] = "s",
            ["list"] = new List<object?> { 1, "a", null },
            ["point"] = new Point(1, 2),
            ["nothing"] = null,
            ["undefined"] = CborValue.Undefined,
            ["color"] = Color.Red,
            ["empty"] = new object(),
        };
        var expected = new CborMap
        {
            ["n"] = 1,
            ["d"] = 1.5,
            ["s"] = "s",
            ["list"] = new CborArray([1, "a", CborValue.Null]),
            ["point"] = new CborMap { ["x"] = 1, ["y"] = 2 },
            ["nothing"] = CborValue.Null,
            ["undefined"] = CborValue.Undefined,
            ["color"] = "Red",
            ["empty"] = new CborMap(),
        };
        Assert.Equal(expected, CborSerializer.ToValue(value));
        Assert.Equal(new CborMap { ["value"] = new CborMap { ["x"] = 1, ["y"] = 2 } }, CborSerializer.ToValue(new Holder(new Point(1, 2))));
    }

    [Fact]
    public void ObjectTargetsReceiveNaturalDotNetTypes()
    {
        var date = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var tagged = new CborTagged(32, "https://example.org");
        var input = new CborArray([1, 1.5, "s", new CborBytes([7]), true, CborValue.Null, CborValue.Undefined, date, tagged, new CborMap { ["k"] = new CborArray([2]) }]);

        var list = Assert.IsType<List<object?>>(CborSerializer.FromValue<object>(input));
        Assert.Equal(1L, list[0]);
        Assert.Equal(1.5, list[1]);
        Assert.Equal("s", list[2]);
        Assert.Equal(new byte[] { 7 }, list[3]);
        Assert.Equal(true, list[4]);
        Assert.Null(list[5]);
        Assert.Null(list[6]);
        Assert.Equal(date, list[7]);
        Assert.Same(tagged, list[8]);
        var map = Assert.IsType<Dictionary<string, object?>>(list[9]);
        Assert.Equal(new List<object?> { 2L }, map["k"]);

        // payload/map/nested as plain objects.
        var nested = Assert.IsType<Dictionary<string, object?>>(CborSerializer.Deserialize<object>(Convert.FromHexString("a1656f75746572a2646c69737481a1616b617664666c6167f4")));
        var outer = Assert.IsType<Dictionary<string, object?>>(nested["outer"]);
        Assert.Equal(false, outer["flag"]);
        var entry = Assert.IsType<Dictionary<string, object?>>(Assert.Single(Assert.IsType<List<object?>>(outer["list"])));
        Assert.Equal("v", entry["k"]);

        // Round trip: what was read as objects writes back to the same bytes (undefined became null).
        Assert.Equal(
            CborSerializer.Serialize(new CborArray([1, 1.5, "s", new CborBytes([7]), true, CborValue.Null, CborValue.Null, date, tagged, new CborMap { ["k"] = new CborArray([2]) }])),
            CborSerializer.Serialize(CborSerializer.FromValue<object>(input)));
    }

    [Fact]
    public void CborValuesPassThrough()
    {
        var map = new CborMap { ["a"] = 1 };
        Assert.Same(map, CborSerializer.ToValue(map));
        Assert.Same(map, CborSerializer.ToValue<CborValue>(map));
        Assert.Same(map, CborSerializer.ToValue<object>(map));
        Assert.Same(map, CborSerializer.ToValue(map, typeof(CborMap)));
        Assert.Same(map, CborSerializer.FromValue<CborValue>(map));
        Assert.Same(map, CborSerializer.FromValue<CborMap>(map));
        Assert.Same(map, CborSerializer.FromValue(map, typeof(CborValue)));
        Assert.Same(CborValue.Null, CborSerializer.FromValue<CborValue>(CborValue.Null));
        Assert.Same(CborValue.Undefined, CborSerializer.FromValue<CborValue>(CborValue.Undefined));
        Assert.Null(CborSerializer.FromValue<CborMap>(CborValue.Null));
        Assert.Same(CborValue.Null, CborSerializer.ToValue<CborValue?>(null));

        var mismatch = Assert.Throws<CborException>(() => CborSerializer.FromValue<CborMap>("text"));
        Assert.Contains("Ataraxia.Cbor.CborMap at $", mismatch.Message, StringComparison.Ordinal);

        var raw = new RawHolder(new CborArray([1, "x"]), map);
        CborValue written = CborSerializer.ToValue(raw);
        Assert.Equal(new CborMap { ["x"] = new CborArray([1, "x"]), ["y"] = map }, written);
        RawHolder read = CborSerializer.FromValue<RawHolder>(written)!;
        Assert.Same(raw.X, read.X);
        Assert.Same(map, read.Y);
    }

    // ---------------------------------------------------------------- errors and limits

    [Fact]
    public void MappingErrorsNameTheTypeAndThePath()
    {
        var cart = new CborMap
        {
            ["items"] = new CborArray(
            [
                new CborMap { ["name"] = "a", ["count"] = 1 },
                new CborMap { ["name"] = "b", ["count"] = 2 },
                new CborMap { ["name"] = "c", ["count"] = "three" },
            ]),
        };
        var exception = Assert.Throws<CborException>(() => CborSerializer.FromValue<Cart>(cart));
        Assert.Equal("Cannot map text \"three\" to System.Int32 at $.items[2].count.", exception.Message);

        var inDictionary = Assert.Throws<CborException>(() => CborSerializer.FromValue<Dictionary<string, List<int>>>(new CborMap { ["a b"] = new CborArray([1, true]) }));
        Assert.Equal("Cannot map true to System.Int32 at $[\"a b\"][1].", inDictionary.Message);

        var top = Assert.Throws<CborException>(() => CborSerializer.FromValue<Point>(new CborArray([1, 2])));
        Assert.Equal($"Cannot map an array of 2 items to {typeof(Point).FullName} at $.", top.Message);

        var list = Assert.Throws<CborException>(() => CborSerializer.FromValue<List<string>>(new CborMap()));
        Assert.Equal("Cannot map a map with 0 keys to System.Collections.Generic.List<System.String> at $.", list.Message);
    }

    [Fact]
    public void ExceptionsFromUserCodeAreWrappedWithThePath()
    {
        var getter = Assert.Throws<CborException>(() => CborSerializer.ToValue(new Holder(new Throwing())));
        Assert.Contains("$.value", getter.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(getter.InnerException);

        var constructor = Assert.Throws<CborException>(() => CborSerializer.FromValue<Validated>(new CborMap { ["count"] = -1 }));
        Assert.Contains("$", constructor.Message, StringComparison.Ordinal);
        Assert.IsType<ArgumentOutOfRangeException>(constructor.InnerException);
    }

    [Fact]
    public void CyclesHitTheDepthLimitInsteadOfOverflowingTheStack()
    {
        var node = new Node { Name = "a" };
        node.Next = node;
        var exception = Assert.Throws<CborException>(() => CborSerializer.ToValue(node));
        Assert.Contains("64", exception.Message, StringComparison.Ordinal);
        Assert.Contains("cycle", exception.Message, StringComparison.Ordinal);
        Assert.Contains("$.next.next.next", exception.Message, StringComparison.Ordinal);

        var list = new List<object?>();
        list.Add(list);
        Assert.Throws<CborException>(() => CborSerializer.ToValue(list));

        var map = new CborMap();
        map["self"] = map;
        Assert.Throws<CborException>(() => CborSerializer.FromValue<object>(map));
        var chain = new CborMap();
        chain["next"] = chain;
        var read = Assert.Throws<CborException>(() => CborSerializer.FromValue<Node>(chain));
        Assert.Contains("$.next.next", read.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChainsUpToTheDepthLimitWorkAndDecode()
    {
        Node deepest = Chain(CborSerializer.MaxDepth);
        byte[] encoded = CborSerializer.Serialize(deepest);
        Node read = CborSerializer.Deserialize<Node>(encoded)!;
        int length = 0;
        for (Node? n = read; n is not null; n = n.Next)
        {
            length++;
        }

        Assert.Equal(CborSerializer.MaxDepth, length);
        Assert.Throws<CborException>(() => CborSerializer.Serialize(Chain(CborSerializer.MaxDepth + 1)));

        static Node Chain(int length)
        {
            Node head = new() { Name = "0" };
            for (int i = 1; i < length; i++)
            {
                head = new Node { Name = i.ToString(System.Globalization.CultureInfo.InvariantCulture), Next = head };
            }

            return head;
        }
    }

    [Fact]
    public void UnsupportedTypesFailClearly()
    {
        Assert.Contains("not supported", Assert.Throws<CborException>(() => CborSerializer.ToValue<object>(new Action(() => { }))).Message, StringComparison.Ordinal);
        Assert.Contains("multi-dimensional", Assert.Throws<CborException>(() => CborSerializer.ToValue(new int[1, 1])).Message, StringComparison.Ordinal);
        Assert.Contains("not supported", Assert.Throws<CborException>(() => CborSerializer.ToValue(typeof(int))).Message, StringComparison.Ordinal);
        Assert.Contains("fields", Assert.Throws<CborException>(() => CborSerializer.ToValue((1, "a"))).Message, StringComparison.Ordinal);
        Assert.Contains("$.value", Assert.Throws<CborException>(() => CborSerializer.ToValue(new Holder((1, 2)))).Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => CborSerializer.ToValue("x", typeof(int)));
        Assert.Throws<ArgumentException>(() => CborSerializer.FromValue(1, typeof(List<>)));
        Assert.Throws<ArgumentException>(() => CborSerializer.FromValue(1, typeof(Span<byte>)));
        Assert.Throws<ArgumentNullException>(() => CborSerializer.FromValue<int>(null!));
    }

    [Fact]
    public void NonGenericEntryPointsMatchTheGenericOnes()
    {
        var order = new Cart([new CartItem("a", 1)]);
        Assert.Equal(CborSerializer.ToValue(order), CborSerializer.ToValue(order, typeof(Cart)));
        var read = Assert.IsType<Cart>(CborSerializer.FromValue(CborSerializer.ToValue(order), typeof(Cart)));
        Assert.Equal(order.Items, read.Items);
        Assert.Same(CborValue.Null, CborSerializer.ToValue(null, typeof(Cart)));
        Assert.Equal(0, CborSerializer.FromValue(CborValue.Undefined, typeof(int)));
    }

    [Fact]
    public void DeserializeRequiresExactlyOneItem()
    {
        Assert.Equal(new Point(1, 2), CborSerializer.Deserialize<Point>(Convert.FromHexString("a2617801617902")));
        Assert.Throws<CborException>(() => CborSerializer.Deserialize<Point>(Convert.FromHexString("a261780161790200")));
        Assert.Throws<CborException>(() => CborSerializer.Deserialize<Point>([]));
    }

    [Fact]
    public void ConcurrentFirstUseIsSafe()
    {
        var results = new ConcurrentBag<byte[]>();
        Parallel.For(0, 64, _ =>
        {
            var value = new Concurrent("c", [new Concurrent.Child(1), new Concurrent.Child(2)], new Dictionary<ConcurrentKind, int> { [ConcurrentKind.B] = 2 });
            byte[] encoded = CborSerializer.Serialize(value);
            Concurrent read = CborSerializer.Deserialize<Concurrent>(encoded)!;
            Assert.Equal(value.Children, read.Children);
            results.Add(encoded);
        });
        Assert.Single(results.Select(Convert.ToHexStringLower).Distinct());
    }

    private static T? ReadAs<T>(T example, CborValue value)
    {
        _ = example;
        return CborSerializer.FromValue<T>(value);
    }

    // ---------------------------------------------------------------- types

    public enum Color
    {
        Red,
        Green,
        Blue,
    }

    public enum ByteColor : byte
    {
        Black,
    }

    [Flags]
    public enum Permissions
    {
        None = 0,
        Read = 1,
        Write = 2,
    }

    public enum ConcurrentKind
    {
        A,
        B,
    }

    public interface IAnimal
    {
        string Name { get; }
    }

    public record Point(int X, int Y);

    public record Counter(string Name, long Value);

    public record Contact(string Name, string? Email, List<string>? Tags);

    public record Server(string Name, int Port = 8080, Color Color = Color.Blue);

    public record WithDefaultParameter(string Name, int Limit = 10);

    public record Note(string Title)
    {
        public string? Body { get; init; }
    }

    public record Holder(object? Value);

    public record RawHolder(CborValue X, CborValue Y);

    public record Envelope(Outer Outer);

    public record Outer(List<Entry> List, bool Flag);

    public record Entry(string K);

    public record ZFirst(int Z, string A);

    public record Line(string Sku, int Quantity, decimal Price);

    public record Customer(string Name, List<string> Tags);

    public record Order(string Id, List<Line> Lines, Dictionary<string, Line> ByCode, Customer? Customer, DateTimeOffset Placed);

    public record CartItem(string Name, int Count);

    public record Cart(List<CartItem> Items);

    public record Zoo(IAnimal Animal);

    public record Dog(string Name, string Breed) : IAnimal;

    public record Collections(
        int[] Array,
        List<string> List,
        IList<int> IList,
        IReadOnlyList<int> ReadOnlyList,
        IEnumerable<int> Enumerable,
        ICollection<int> Collection,
        HashSet<string> HashSet,
        ISet<int> Set,
        IReadOnlyCollection<int> ReadOnlyCollection,
        ReadOnlyCollection<int> Wrapped,
        Queue<int> Queue,
        List<int> Empty);

    public record Dictionaries(
        Dictionary<string, int> ByName,
        IDictionary<int, string> ByInt,
        IReadOnlyDictionary<long, bool> ByLong,
        Dictionary<Guid, int> ByGuid,
        Dictionary<Color, int> ByEnum,
        SortedDictionary<string, int> Sorted,
        ReadOnlyDictionary<string, int> ReadOnly);

    public record Concurrent(string Name, List<Concurrent.Child> Children, Dictionary<ConcurrentKind, int> Counts)
    {
        public record Child(int Value);
    }

    public record struct PointStruct(int X, int Y);

    public readonly record struct Size(double Width, double Height);

    public struct MutableStruct
    {
        public int Count { get; set; }

        public string? Label { get; set; }
    }

    public sealed class Naming
    {
        public int ID { get; set; }

        public string? URLValue { get; set; }

        public string? FirstName { get; set; }

        [CborPropertyName("custom_key")]
        public int Renamed { get; set; }

        [CborIgnore]
        public string? Secret { get; set; }

        public string? Last { get; set; }
    }

    public sealed class CasePair
    {
        [CborPropertyName("value")]
        public int Lower { get; set; }

        [CborPropertyName("VALUE")]
        public int Upper { get; set; }
    }

    public sealed class Defaults
    {
        public int? X { get; set; } = 7;

        public string? Y { get; set; } = "initial";
    }

    public sealed class Settings
    {
        public string Name { get; set; } = "";

        public int Retries { get; init; }

        public List<string> Tags { get; } = [];

        public int Doubled => Retries * 2;
    }

    public sealed class Immutable(string name, IEnumerable<int> values)
    {
        public string Name { get; } = name;

        public IReadOnlyList<int> Values { get; } = [.. values];
    }

    public sealed class NoConstructor
    {
        private NoConstructor()
        {
        }

        public int A { get; private set; }

        public static NoConstructor Create(int a) => new() { A = a };
    }

    public sealed class Ambiguous
    {
        public Ambiguous(int a) => A = a;

        public Ambiguous(string b) => B = b;

        public int A { get; }

        public string? B { get; }
    }

    public sealed class Validated
    {
        public Validated(int count) => Count = count >= 0 ? count : throw new ArgumentOutOfRangeException(nameof(count));

        public int Count { get; }
    }

    public sealed class Throwing
    {
        private readonly string _reason = "no value";

        public int Value => throw new InvalidOperationException(_reason);
    }

    public class Base
    {
        public int Id { get; set; }
    }

    public sealed class Derived : Base
    {
        public string? Name { get; set; }
    }

    public sealed class Node
    {
        public string? Name { get; set; }

        public Node? Next { get; set; }
    }
}
