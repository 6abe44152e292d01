'use strict';

/*
 * One JavaScript Ataraxia node (ataraxia 0.12.2) for the .NET throughput benchmark (Ataraxia.Throughput, JsRows).
 *
 * Transport: plain TCP on 127.0.0.1 with the stream framing of ataraxia-transport-streams' StreamingPeer and no
 * encryption (WIRE.md §4.1), the same PlainTcpTransport as tests/Ataraxia.Interop.Tests/js/node.js minus the
 * tracing. Authentication is anonymous. Nothing is written per message: counts stay in this process and only
 * results are reported.
 *
 * Driven by JSON lines on stdin, reports JSON lines on stdout (stderr is for diagnostics only). Every reply echoes
 * the command's "seq"; a failed command answers {"event":"error","seq":..,"cmd":..,"message":..}.
 *   (at start)                                          -> {"event":"ready","id":"<hex>","node":"v20..."}
 *   {"cmd":"listen"}                                    -> {"event":"listening","port":N}
 *   {"cmd":"connect","port":N}                          -> {"event":"connected"}   (TCP connected, not negotiated)
 *   {"cmd":"wait-node","id":"<hex>","timeoutMs":T}      -> {"event":"node"} once that node is available
 *   {"cmd":"flood","to":"<hex>","type":"t","size":N,"window":W}
 *       -> {"event":"flooding"} at once; from then on W sends of an N-byte byte string are kept unacknowledged
 *          (node.send resolves on the next hop's DATA_ACK) until "stop-flood"
 *   {"cmd":"stop-flood","timeoutMs":T}                  -> {"event":"stopped","sent":N,"failed":F,"lastError":..}
 *       once the sends in flight settled (or T ms passed)
 *   {"cmd":"measure","type":"t","warmupMs":A,"durationMs":D}
 *       -> {"event":"measured","count":N,"bytes":B,"elapsedMs":E}: messages of type t (and the bytes of those
 *          whose data is a byte string) received during D ms after A ms
 *   {"cmd":"echo","type":"ping","reply":"pong"}         -> {"event":"echoing"}; from then on every message of
 *       type "ping" is sent back to its source as "pong" with the same data
 *   {"cmd":"rtt","to":"<hex>","size":N,"samples":S,"warmupMs":A}
 *       -> {"event":"rtt","samples":[µs, ...]}: "ping" with an N-byte byte string, wait for the "pong", one
 *          outstanding; S samples taken after A ms of warm-up
 *   {"cmd":"leave"}                                     -> {"event":"left"}, then exits (also on end of stdin)
 * Unsolicited: {"event":"uncaught","message":..} for an exception that would have crashed node.
 *
 * Options: --name <network name> (default "bench").
 */

const net = require('net');
const readline = require('readline');

const { Network, AnonymousAuth } = require('ataraxia');
const { AbstractTransport, decodeId } = require('ataraxia-transport');
const { StreamingPeer } = require('ataraxia-transport-streams');

function emit(event) {
	process.stdout.write(JSON.stringify(event) + '\n');
}

function parseArgs(argv) {
	const options = { name: 'bench' };
	for(let i = 0; i < argv.length; i++) {
		if(argv[i] === '--name' && i + 1 < argv.length) {
			options.name = argv[++i];
		} else {
			throw new Error('Unknown argument: ' + argv[i]);
		}
	}
	return options;
}

function toHex(bytes) {
	if(bytes instanceof ArrayBuffer) {
		return Buffer.from(bytes).toString('hex');
	}
	return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

// The raw id of a Node: NetworkNode keeps it in networkId; decodeId(node.id) loses leading zero bytes.
function nodeIdHex(node) {
	const raw = node.networkId;
	if(raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)) {
		return toHex(raw);
	}
	return toHex(decodeId(node.id));
}

function payload(size) {
	const bytes = new Uint8Array(size);
	for(let i = 0; i < size; i++) {
		bytes[i] = (i * 31 + 7) & 0xff;
	}
	return bytes;
}

const nowNs = () => process.hrtime.bigint();
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** StreamingPeer over a plain socket: setStream is the transport-side hook (protected in TypeScript). */
class PlainPeer extends StreamingPeer {
	attach(socket, client) {
		this.setStream(socket, client);
	}
}

class PlainTcpTransport extends AbstractTransport {
	constructor(authProviders) {
		super('plain-tcp');
		this.authProviders = authProviders;
		this.servers = new Set();
		this.sockets = new Set();
	}

	handleSocket(socket, client) {
		this.sockets.add(socket);
		socket.setNoDelay(true);
		// StreamingPeer adds a 'drain' listener per write that found the buffer full; hundreds are normal here.
		socket.setMaxListeners(0);
		socket.on('error', () => {});
		socket.on('close', () => this.sockets.delete(socket));
		const peer = new PlainPeer(this.transportOptions, this.authProviders);
		this.addPeer(peer);
		peer.attach(socket, client);
	}

	listen() {
		return new Promise((resolve, reject) => {
			const server = net.createServer(socket => this.handleSocket(socket, false));
			server.once('error', reject);
			server.listen(0, '127.0.0.1', () => {
				server.removeListener('error', reject);
				this.servers.add(server);
				resolve(server.address().port);
			});
		});
	}

	connect(host, port) {
		return new Promise((resolve, reject) => {
			const socket = net.connect({ host, port });
			socket.once('error', reject);
			socket.once('connect', () => {
				socket.removeListener('error', reject);
				this.handleSocket(socket, true);
				resolve();
			});
		});
	}

	async stop() {
		const stopped = await super.stop();
		for(const server of this.servers) {
			server.close();
		}
		this.servers.clear();
		return stopped;
	}

	destroyAll() {
		for(const socket of this.sockets) {
			socket.destroy();
		}
	}
}

async function main() {
	const options = parseArgs(process.argv.slice(2));
	const tcp = new PlainTcpTransport([ new AnonymousAuth() ]);
	const network = new Network({ name: options.name, transports: [ tcp ] });

	// Messages received per type, and what waits for the next message of a type (round trips).
	const counts = new Map();
	const bytes = new Map();
	const waiters = new Map();
	let echo = null;
	network.onMessage(message => {
		counts.set(message.type, (counts.get(message.type) || 0) + 1);
		const data = message.data;
		if(data instanceof Uint8Array) {
			bytes.set(message.type, (bytes.get(message.type) || 0) + data.byteLength);
		}
		if(echo !== null && message.type === echo.type) {
			message.source.send(echo.reply, message.data).catch(() => {});
		}
		const waiter = waiters.get(message.type);
		if(waiter) {
			waiters.delete(message.type);
			waiter(message);
		}
	});

	await network.join();
	emit({ event: 'ready', id: toHex(network.networkIdBinary), node: process.version });

	function findNode(to) {
		const wanted = String(to).toLowerCase();
		return network.nodes.find(n => nodeIdHex(n) === wanted);
	}

	function requireNode(to) {
		const node = findNode(to);
		if(! node) {
			throw new Error('Node ' + to + ' is not available');
		}
		return node;
	}

	let flood = null;

	function startFlood(node, type, size, window) {
		const data = payload(size);
		const state = { sent: 0, failed: 0, inFlight: 0, stopping: false, lastError: undefined, settled: null };
		let settle;
		state.settled = new Promise(resolve => settle = resolve);
		const done = () => {
			state.inFlight--;
			if(state.stopping) {
				if(state.inFlight === 0) settle();
				return;
			}
			pump();
		};
		const ok = () => {
			state.sent++;
			done();
		};
		const fail = err => {
			state.failed++;
			state.lastError = String(err && err.message || err);
			done();
		};
		function pump() {
			while(! state.stopping && state.inFlight < window) {
				state.inFlight++;
				node.send(type, data).then(ok, fail);
			}
		}
		pump();
		return state;
	}

	async function run(command) {
		switch(command.cmd) {
			case 'listen':
				return { event: 'listening', port: await tcp.listen() };
			case 'connect':
				await tcp.connect(command.host || '127.0.0.1', command.port);
				return { event: 'connected' };
			case 'wait-node': {
				const deadline = Date.now() + (command.timeoutMs || 30000);
				while(! findNode(command.id)) {
					if(Date.now() > deadline) {
						throw new Error('Node ' + command.id + ' did not become available');
					}
					await sleep(10);
				}
				return { event: 'node' };
			}
			case 'flood': {
				if(flood !== null) throw new Error('Already flooding');
				flood = startFlood(requireNode(command.to), command.type, command.size, command.window);
				return { event: 'flooding' };
			}
			case 'stop-flood': {
				const state = flood;
				if(state === null) throw new Error('Not flooding');
				flood = null;
				state.stopping = true;
				if(state.inFlight > 0) {
					await Promise.race([ state.settled, sleep(command.timeoutMs || 10000) ]);
				}
				return { event: 'stopped', sent: state.sent, failed: state.failed, inFlight: state.inFlight, lastError: state.lastError };
			}
			case 'measure': {
				const type = command.type;
				await sleep(command.warmupMs);
				const first = counts.get(type) || 0;
				const firstBytes = bytes.get(type) || 0;
				const start = nowNs();
				await sleep(command.durationMs);
				const last = counts.get(type) || 0;
				const elapsedMs = Number(nowNs() - start) / 1e6;
				return { event: 'measured', count: last - first, bytes: (bytes.get(type) || 0) - firstBytes, elapsedMs };
			}
			case 'echo':
				echo = { type: command.type || 'ping', reply: command.reply || 'pong' };
				return { event: 'echoing' };
			case 'rtt': {
				const node = requireNode(command.to);
				const data = payload(command.size);
				const samples = [];
				const warmupEnd = nowNs() + BigInt(Math.round(command.warmupMs * 1e6));
				while(samples.length < command.samples) {
					const start = nowNs();
					const pong = new Promise((resolve, reject) => {
						const timer = setTimeout(() => {
							waiters.delete('pong');
							reject(new Error('No pong within 10 s'));
						}, 10000);
						waiters.set('pong', message => {
							clearTimeout(timer);
							resolve(message);
						});
					});
					const ack = node.send('ping', data);
					await pong;
					const end = nowNs();
					await ack;
					if(start > warmupEnd) {
						samples.push(Number(end - start) / 1e3);
					}
				}
				return { event: 'rtt', samples };
			}
			case 'leave':
				await leave();
				return { event: 'left' };
			default:
				throw new Error('Unknown command: ' + command.cmd);
		}
	}

	let leaving = false;
	async function leave() {
		if(leaving) return;
		leaving = true;
		// Never hang on the way out.
		setTimeout(() => process.exit(0), 2000).unref();
		if(flood !== null) flood.stopping = true;
		try {
			await network.leave();
		} catch(err) {
			// Leaving is best effort.
		}
		emit({ event: 'left' });
		tcp.destroyAll();
		process.exit(0);
	}

	const lines = readline.createInterface({ input: process.stdin, terminal: false });
	lines.on('line', line => {
		if(line.trim().length === 0) return;
		let command;
		try {
			command = JSON.parse(line);
		} catch(err) {
			emit({ event: 'error', message: 'Invalid JSON command: ' + err.message });
			return;
		}
		run(command)
			.then(reply => emit({ ...reply, seq: command.seq }))
			.catch(err => emit({ event: 'error', seq: command.seq, cmd: command.cmd, message: String(err && err.message || err) }));
	});
	lines.on('close', () => {
		leave().catch(() => process.exit(1));
	});
}

process.on('uncaughtException', err => emit({ event: 'uncaught', message: String(err && err.stack || err) }));
process.on('unhandledRejection', err => emit({ event: 'uncaught', message: 'unhandled rejection: ' + String(err && err.stack || err) }));

main().catch(err => {
	emit({ event: 'error', fatal: true, message: String(err && err.stack || err) });
	process.exit(1);
});
