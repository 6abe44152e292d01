namespace Ataraxia.Benchmarks;

public static class Program
{
    public static void Main()
    {
    }
}
