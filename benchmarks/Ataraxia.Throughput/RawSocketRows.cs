using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Ataraxia.Throughput;

/// <summary>
/// The physical limit of this machine: a raw loopback TCP socket pair carrying length-prefixed frames with
/// buffered writes and reads, no protocol, no routing, no acknowledgements.
/// </summary>
public static class RawSocketRows
{
    private const int BufferSize = 64 * 1024;

    public static async Task RunAsync(RunContext context)
    {
        if (context.Wants("raw-64"))
        {
            context.Report.Add(await ThroughputAsync("raw-64", "raw socket, 64 B", 64, context));
        }

        if (context.Wants("raw-16k"))
        {
            context.Report.Add(await ThroughputAsync("raw-16k", "raw socket, 16 KiB", 16 * 1024, context) with { RatioOf = "MB/s" });
        }

        if (context.Wants("raw-rtt"))
        {
            context.Report.Add(await RoundTripAsync(context));
        }
    }

    public static async Task<(Socket Client, Socket Server)> ConnectPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!);
        Socket server = await accept;
        server.NoDelay = true;
        return (client, server);
    }

    private static async Task<Row> ThroughputAsync(string id, string name, int payload, RunContext context)
    {
        (Socket client, Socket server) = await ConnectPairAsync();
        using (client)
        using (server)
        {
            long received = 0;
            using var stop = new CancellationTokenSource();
            Task sender = Task.Run(() => SendFramesAsync(client, payload, stop.Token));
            Task receiver = Task.Run(() => ReceiveFramesAsync(server, count => Interlocked.Add(ref received, count)));

            (long count, TimeSpan elapsed, double allocated, double cpu) = await Measure.CountWithAllocationsAsync(() => Interlocked.Read(ref received), context);
            await stop.CancelAsync();
            await sender;
            client.Shutdown(SocketShutdown.Send);
            await receiver;
            double rate = count / elapsed.TotalSeconds;
            return new Row
            {
                Id = id,
                Name = name,
                MessagesPerSecond = rate,
                MegabytesPerSecond = rate * payload / 1e6,
                CpuPerMessage = cpu,
                AllocatedPerMessage = allocated,
                Note = id == "raw-64" ? "length-prefixed frames, 64 KiB buffered writes, one sender and one reader thread" : null,
            };
        }
    }

    private static async Task SendFramesAsync(Socket socket, int payload, CancellationToken stop)
    {
        byte[] buffer = new byte[BufferSize + payload + 4];
        while (!stop.IsCancellationRequested)
        {
            int used = 0;
            while (used + payload + 4 <= buffer.Length)
            {
                BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(used), payload);
                used += 4 + payload;
            }

            await socket.SendAsync(buffer.AsMemory(0, used), SocketFlags.None, CancellationToken.None);
        }
    }

    private static async Task ReceiveFramesAsync(Socket socket, Action<int> onFrames)
    {
        byte[] buffer = new byte[BufferSize * 2];
        int start = 0;
        int end = 0;
        while (true)
        {
            if (start > 0 && end - start < 4096)
            {
                buffer.AsSpan(start, end - start).CopyTo(buffer);
                end -= start;
                start = 0;
            }

            int read = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None);
            if (read == 0)
            {
                return;
            }

            end += read;
            int frames = 0;
            while (end - start >= 4)
            {
                int length = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(start));
                if (end - start < 4 + length)
                {
                    break;
                }

                start += 4 + length;
                frames++;
            }

            if (start == end)
            {
                start = end = 0;
            }
            else if (buffer.Length - end < BufferSize / 2)
            {
                buffer.AsSpan(start, end - start).CopyTo(buffer);
                end -= start;
                start = 0;
            }

            onFrames(frames);
        }
    }

    private static async Task<Row> RoundTripAsync(RunContext context)
    {
        (Socket client, Socket server) = await ConnectPairAsync();
        using (client)
        using (server)
        {
            Task echo = Task.Run(async () =>
            {
                byte[] frame = new byte[68];
                while (await ReadExactlyAsync(server, frame))
                {
                    await server.SendAsync(frame, SocketFlags.None);
                }
            });

            byte[] request = new byte[68];
            byte[] response = new byte[68];
            BinaryPrimitives.WriteInt32BigEndian(request, 64);
            var samples = new List<double>(context.RttSamples);
            Stopwatch warmup = Stopwatch.StartNew();
            while (warmup.Elapsed < context.Warmup)
            {
                await client.SendAsync(request, SocketFlags.None);
                await ReadExactlyAsync(client, response);
            }

            for (int i = 0; i < context.RttSamples; i++)
            {
                long start = Stopwatch.GetTimestamp();
                await client.SendAsync(request, SocketFlags.None);
                await ReadExactlyAsync(client, response);
                samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }

            client.Shutdown(SocketShutdown.Send);
            await echo;
            return Measure.LatencyRow("raw-rtt", "raw socket, round trip 64 B", samples);
        }
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, byte[] buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }
}
