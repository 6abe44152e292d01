// The Ataraxia mesh in one process, over real loopback transports:
//
//                             +--tcp+tls-- cy  --ws--+
//   ada --local-- bob --------+                      +-- eve
//                             +--tcp+tls-- dee --ws--+
//
// ada and bob share a machine-local Unix domain socket (bob leads), bob accepts TCP + TLS on 127.0.0.1, cy and dee
// dial bob and each run a WebSocket server that eve connects to. Only the links drawn exist: ada reaches eve through
// bob and one of the routers. The demo prints every route, sends a message and calls a service from ada to eve,
// crashes the router on that path and shows the mesh routing around it.
//
// Run with: dotnet run --project samples/MeshDemo -c Release   (add -- --verbose for the nodes' logs)
using Ataraxia.MeshDemo;

return await new DemoRun(verbose: args.Contains("--verbose")).RunAsync();
