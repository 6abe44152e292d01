'use strict';

/*
 * One real JavaScript Ataraxia node (ataraxia 0.12.2) for the .NET interop tests.
 *
 * Transport: plain TCP on 127.0.0.1 with the stream framing of ataraxia-transport-streams' StreamingPeer and
 * no Noise layer (WIRE.md §4.1, like ataraxia-local §4.3). It can listen on an OS-assigned port and connect to
 * a given port; it never reconnects.
 *
 * Driven by JSON lines on stdin, reports JSON lines on stdout (stderr is for diagnostics only):
 *   {"cmd":"listen"}                                   -> {"event":"listening","port":N}
 *   {"cmd":"connect","port":N[,"host":"127.0.0.1"]}    -> {"event":"connected","port":N}   (TCP connected)
 *   {"cmd":"send","to":"<hex or base62>","type":"t","data":<json>} -> {"event":"sent"} once acknowledged
 *   {"cmd":"nodes"}                                    -> {"event":"nodes","ids":["<hex>",...]}
 *   {"cmd":"leave"}                                    -> {"event":"left"}, then exits
 * Every reply echoes the command's "seq"; a failed command answers {"event":"error","seq":..,"cmd":..,"message":..}.
 * Unsolicited events: ready, available, unavailable, message, peer-connected, peer-disconnected,
 * socket-closed, trace (every peer message in or out), uncaught (an exception that would have crashed node).
 *
 * JSON data mapping, both ways: Uint8Array/Buffer <-> {"$bytes":"hex"}, undefined <-> {"$undefined":true},
 * Date <-> {"$date":"iso"}, NaN/Infinity <-> {"$number":"NaN"}.
 *
 * Options: --name <network name> (or ATARAXIA_NAME), --secret <s> (shared-secret auth; anonymous without it).
 */

const net = require('net');
const readline = require('readline');

const { Network, AnonymousAuth, SharedSecretAuth } = require('ataraxia');
const { AbstractTransport, PeerMessageType, decodeId } = require('ataraxia-transport');
const { StreamingPeer } = require('ataraxia-transport-streams');

const startedAt = Date.now();

function emit(event) {
	process.stdout.write(JSON.stringify(event) + '\n');
}

function parseArgs(argv) {
	const options = { name: process.env.ATARAXIA_NAME || 'interop', secret: undefined };
	for(let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if(arg === '--name' && i + 1 < argv.length) {
			options.name = argv[++i];
		} else if(arg === '--secret' && i + 1 < argv.length) {
			options.secret = argv[++i];
		} else {
			throw new Error('Unknown argument: ' + arg);
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

// The raw id of a Node: NetworkNode keeps it in a (TypeScript-private) field; decodeId(node.id) loses leading
// zero bytes (WIRE.md §1.2), so it is only the fallback.
function nodeIdHex(node) {
	const raw = node.networkId;
	if(raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)) {
		return toHex(raw);
	}

	return toHex(decodeId(node.id));
}

function toJson(value) {
	if(value === undefined) return { $undefined: true };
	if(value === null || typeof value === 'boolean' || typeof value === 'string') return value;
	if(typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
	if(value instanceof ArrayBuffer || ArrayBuffer.isView(value) && value instanceof Uint8Array) {
		return { $bytes: toHex(value) };
	}
	if(Array.isArray(value)) return value.map(toJson);
	if(value instanceof Date) return { $date: value.toISOString() };
	if(typeof value === 'object') {
		const result = {};
		for(const key of Object.keys(value)) {
			result[key] = toJson(value[key]);
		}
		return result;
	}

	return { $unsupported: String(value) };
}

function fromJson(value) {
	if(Array.isArray(value)) return value.map(fromJson);
	if(value === null || typeof value !== 'object') return value;

	const keys = Object.keys(value);
	if(keys.length === 1) {
		switch(keys[0]) {
			case '$bytes':
				return new Uint8Array(Buffer.from(value.$bytes, 'hex'));
			case '$undefined':
				return undefined;
			case '$number':
				return Number(value.$number);
			case '$date':
				return new Date(value.$date);
		}
	}

	const result = {};
	for(const key of keys) {
		result[key] = fromJson(value[key]);
	}
	return result;
}

function describe(type, payload) {
	const name = PeerMessageType[type];
	if(type === PeerMessageType.Data && payload) {
		return { msg: name, dataType: payload.type, target: payload.target ? toHex(payload.target) : undefined };
	}
	if(type === PeerMessageType.Auth && payload) {
		return { msg: name, method: payload.method };
	}
	if((type === PeerMessageType.DataAck || type === PeerMessageType.DataReject) && payload) {
		return { msg: name, id: payload.id };
	}
	if(type === PeerMessageType.NodeSummary && payload) {
		return { msg: name, ownVersion: payload.ownVersion, nodes: payload.nodes.map(n => [ toHex(n.id), n.version ]) };
	}
	if(type === PeerMessageType.NodeRequest && payload) {
		return { msg: name, nodes: payload.nodes.map(toHex) };
	}
	if(type === PeerMessageType.NodeDetails && payload) {
		return {
			msg: name,
			nodes: payload.nodes.map(n => ({ id: toHex(n.id), version: n.version, neighbors: n.neighbors.map(x => [ toHex(x.id), x.latency ]) }))
		};
	}
	return { msg: name };
}

/**
 * StreamingPeer over a plain socket. setStream is protected in TypeScript; this is the transport-side hook,
 * as in ataraxia-local. Every peer message in and out is traced.
 */
class PlainPeer extends StreamingPeer {
	constructor(transportOptions, authProviders, connection) {
		super(transportOptions, authProviders);
		this.connection = connection;
	}

	attach(socket, client) {
		this.setStream(socket, client);
	}

	receiveData(type, payload) {
		emit({ event: 'trace', dir: 'in', conn: this.connection, ms: Date.now() - startedAt, ...describe(type, payload) });
		super.receiveData(type, payload);
	}

	send(type, message) {
		emit({ event: 'trace', dir: 'out', conn: this.connection, ms: Date.now() - startedAt, ...describe(type, message) });
		return super.send(type, message);
	}
}

class PlainTcpTransport extends AbstractTransport {
	constructor(authProviders) {
		super('plain-tcp');
		this.authProviders = authProviders;
		this.servers = new Set();
		this.sockets = new Set();
		this.nextConnection = 1;
	}

	handleSocket(socket, client) {
		const connection = this.nextConnection++;
		this.sockets.add(socket);
		socket.setNoDelay(true);
		socket.on('error', err => emit({ event: 'socket-error', conn: connection, message: err.message }));
		socket.on('close', hadError => {
			this.sockets.delete(socket);
			emit({ event: 'socket-closed', conn: connection, client, hadError });
		});

		const peer = new PlainPeer(this.transportOptions, this.authProviders, connection);
		peer.onConnect(() => emit({ event: 'peer-connected', conn: connection, id: toHex(peer.id) }));
		peer.onDisconnect(() => emit({ event: 'peer-disconnected', conn: connection, id: toHex(peer.id) }));
		this.addPeer(peer);
		peer.attach(socket, client);
		return connection;
	}

	listen() {
		return new Promise((resolve, reject) => {
			const server = net.createServer(socket => this.handleSocket(socket, false));
			server.once('error', reject);
			server.listen(0, '127.0.0.1', () => {
				server.removeListener('error', reject);
				server.on('error', err => emit({ event: 'error', message: 'server: ' + err.message }));
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
				resolve(this.handleSocket(socket, true));
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
	const authentication = options.secret !== undefined
		? [ new SharedSecretAuth({ secret: options.secret }) ]
		: [ new AnonymousAuth() ];

	const transport = new PlainTcpTransport(authentication);
	const network = new Network({ name: options.name, transports: [ transport ] });

	network.onNodeAvailable(node => emit({ event: 'available', id: nodeIdHex(node), name: node.id }));
	network.onNodeUnavailable(node => emit({ event: 'unavailable', id: nodeIdHex(node), name: node.id }));
	network.onMessage(message => emit({
		event: 'message',
		from: nodeIdHex(message.source),
		type: message.type,
		data: toJson(message.data)
	}));

	await network.join();
	emit({ event: 'ready', id: toHex(network.networkIdBinary), name: network.networkId });

	let leaving = false;
	async function leave() {
		if(leaving) return;
		leaving = true;
		// Never hang on the way out: a peer that does not answer BYE must not keep the process alive.
		setTimeout(() => process.exit(0), 2000).unref();
		try {
			await network.leave();
		} catch(err) {
			emit({ event: 'error', cmd: 'leave', message: String(err && err.message || err) });
		}
		emit({ event: 'left' });
		transport.destroyAll();
		process.exit(0);
	}

	function findNode(to) {
		const wanted = String(to);
		return network.nodes.find(node => node.id === wanted || nodeIdHex(node) === wanted.toLowerCase());
	}

	async function run(command) {
		switch(command.cmd) {
			case 'listen': {
				const port = await transport.listen();
				return { event: 'listening', port };
			}
			case 'connect': {
				const host = command.host || '127.0.0.1';
				const connection = await transport.connect(host, command.port);
				return { event: 'connected', port: command.port, conn: connection };
			}
			case 'send': {
				const node = findNode(command.to);
				if(! node) {
					throw new Error('Node ' + command.to + ' is not available');
				}
				await node.send(command.type, fromJson(command.data));
				return { event: 'sent', to: nodeIdHex(node), type: command.type };
			}
			case 'nodes':
				return { event: 'nodes', ids: network.nodes.map(nodeIdHex) };
			case 'leave':
				await leave();
				return { event: 'left' };
			default:
				throw new Error('Unknown command: ' + command.cmd);
		}
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

// A default node process dies on these (e.g. a malformed frame, WIRE.md §3.3). Report them instead, so the test
// sees the cause; the tests fail on any "uncaught" event.
process.on('uncaughtException', err => emit({ event: 'uncaught', message: String(err && err.stack || err) }));
process.on('unhandledRejection', err => emit({ event: 'uncaught', message: 'unhandled rejection: ' + String(err && err.stack || err) }));

main().catch(err => {
	emit({ event: 'error', fatal: true, message: String(err && err.stack || err) });
	process.exit(1);
});
