using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Ataraxia.Cbor;
using Ataraxia.Tcp;
using Ataraxia.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Ataraxia.WebSockets.Tests;

/// <summary>
/// A real browser joins the mesh: headless Chromium loads a page served by the ASP.NET Core server, in which the
/// published JavaScript library (ataraxia 0.12.2, ataraxia-transport 0.12.0, bundled by esbuild) connects over
/// WebSocket and exchanges messages with a .NET node that sits behind the server on TCP.
/// </summary>
[Trait("Category", "Integration")]
public sealed class BrowserTests
{
    /// <summary>Starting Chromium on a busy two-core machine takes a few seconds; the page itself needs well under one.</summary>
    private static readonly TimeSpan BrowserTimeout = TimeSpan.FromSeconds(60);

    // The first script reports the outcome (or any error, even one while the bundle loads) to the server, once.
    private const string Page = """
        <!doctype html>
        <html>
        <head><meta charset="utf-8"><title>Ataraxia browser node</title></head>
        <body>
        <p id="status">loading</p>
        <script>
        let reported = false;
        window.reportResult = result => {
            if (reported) return;
            reported = true;
            document.getElementById('status').textContent = JSON.stringify(result);
            fetch('/result', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) });
        };
        window.addEventListener('error', e => window.reportResult({ ok: false, error: 'uncaught: ' + e.message }));
        window.addEventListener('unhandledrejection', e => window.reportResult({ ok: false, error: 'unhandled rejection: ' + String(e.reason) }));
        </script>
        <script src="/browser/bundle.js"></script>
        </body>
        </html>
        """;

    [BrowserFact]
    public async Task A_browser_page_running_the_javascript_library_exchanges_messages_with_a_dotnet_node_through_the_server()
    {
        DirectoryInfo work = Directory.CreateTempSubdirectory("ataraxia-browser-");
        try
        {
            string bundle = await BrowserEnvironment.BundleAsync(work.FullName);
            var reported = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);

            // Browser <-WS-> ASP.NET server (WebSocket endpoint + TCP) <-TCP-> .NET node.
            await using var serverTcp = new TcpTransport(TestNode.TcpOptions());
            await using AspNetTestServer server = await AspNetTestServer.StartAsync(
                network: o => o with { Transports = [serverTcp] },
                map: app =>
                {
                    app.MapGet("/browser/", context =>
                    {
                        context.Response.ContentType = "text/html; charset=utf-8";
                        return context.Response.WriteAsync(Page);
                    });
                    app.MapGet("/browser/bundle.js", context =>
                    {
                        context.Response.ContentType = "text/javascript; charset=utf-8";
                        return context.Response.SendFileAsync(bundle);
                    });
                    app.MapPost("/result", async context =>
                    {
                        using JsonDocument result = await JsonDocument.ParseAsync(context.Request.Body);
                        reported.TrySetResult(result.RootElement.Clone());
                        context.Response.StatusCode = StatusCodes.Status204NoContent;
                    });
                });
            (TestNode dotnet, _) = await TestNode.StartTcpAsync(peers: new DnsEndPoint("127.0.0.1", serverTcp.Port));
            await using TestNode dotnetScope = dotnet;
            var greeted = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
            var replied = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
            dotnet.Network.MessageReceived += (_, e) =>
            {
                if (e.Message.Type == "browser-hello" && greeted.TrySetResult(e.Message))
                {
                    _ = ReplyAsync(e.Message, replied);
                }
            };
            await TaskTimeoutExtensions.WaitUntilAsync(() => dotnet.Sees(server.Id));

            Uri page = server.HttpUrl($"/browser/?target={dotnet.Id}&secret={Uri.EscapeDataString(TestNode.Secret)}");
            await using ChromiumProcess chromium = ChromiumProcess.Start(page, Path.Combine(work.FullName, "profile"));
            JsonElement outcome = await chromium.WaitForAsync(reported.Task, BrowserTimeout);

            Assert.True(outcome.GetProperty("ok").GetBoolean(), $"The page reported a failure: {outcome}\nChromium:\n{chromium.Output}");
            Assert.Null(await replied.Task.DefaultTimeout());
            string browserId = outcome.GetProperty("id").GetString()!;
            Assert.Equal(dotnet.Id.ToString(), outcome.GetProperty("from").GetString());
            Assert.Equal("hello from .NET", outcome.GetProperty("text").GetString());
            Assert.Equal("hello from the browser", outcome.GetProperty("echo").GetString());

            Message hello = await greeted.Task.DefaultTimeout();
            Assert.Equal(browserId, hello.Source.Id.ToString());
            Assert.Equal("hello from the browser", hello.Data.AsMap()["text"].AsString());
            Assert.Equal(42, hello.Data.AsMap()["n"].AsInt64());

            // The browser reached the .NET node only through the server's WebSocket endpoint.
            Assert.Equal(1, server.Endpoint.ConnectionCount);
            NodeId browserNode = NodeId.Parse(browserId);
            await TaskTimeoutExtensions.WaitUntilAsync(() => server.Network.TryGetNode(browserNode, out _));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task ReplyAsync(Message hello, TaskCompletionSource<Exception?> replied)
    {
        try
        {
            await hello.Source.SendAsync("dotnet-reply", new CborMap
            {
                ["text"] = "hello from .NET",
                ["echo"] = hello.Data.AsMap()["text"],
            });
            replied.TrySetResult(null);
        }
        catch (Exception ex)
        {
            replied.TrySetResult(ex);
        }
    }
}

/// <summary>Headless Chromium showing one page, with a fresh profile; killed (with its children) on dispose.</summary>
internal sealed class ChromiumProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChromiumProcess(Process process) => _process = process;

    public string Output => BrowserEnvironment.Read(_output);

    public static ChromiumProcess Start(Uri url, string profileDirectory)
    {
        var startInfo = new ProcessStartInfo(BrowserEnvironment.Chromium!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",

            // The page's console messages and errors go to stderr, for the failure message.
            "--enable-logging=stderr",
            $"--user-data-dir={profileDirectory}",
            url.ToString()])
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = startInfo };
        var chromium = new ChromiumProcess(process);
        process.OutputDataReceived += (_, e) => BrowserEnvironment.Append(chromium._output, e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            // Headless Chromium on a machine without D-Bus complains about it on every start; that is noise.
            if (e.Data is null || !e.Data.Contains("dbus", StringComparison.Ordinal))
            {
                BrowserEnvironment.Append(chromium._output, e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return chromium;
    }

    /// <summary>Waits for what the page reports; fails at once, with Chromium's output, if Chromium exits first.</summary>
    public async Task<T> WaitForAsync<T>(Task<T> reported, TimeSpan timeout)
    {
        Task exited = _process.WaitForExitAsync();
        Task first = await Task.WhenAny(reported, exited, Task.Delay(timeout));
        if (first == reported)
        {
            return await reported;
        }

        if (first == exited)
        {
            throw new InvalidOperationException($"Chromium exited with code {_process.ExitCode} before the page reported. Output:\n{Output}");
        }

        throw new TimeoutException($"The page did not report within {timeout}. Chromium output:\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            _process.Dispose();
        }
    }
}
