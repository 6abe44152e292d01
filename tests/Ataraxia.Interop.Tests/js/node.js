'use strict';

/*
 * One real JavaScript Ataraxia node (ataraxia 0.12.2) for the .NET interop tests.
 *
 * Transports, both on 127.0.0.1, neither reconnects:
 *   - plain TCP with the stream framing of ataraxia-transport-streams' StreamingPeer and no Noise layer
 *     (WIRE.md §4.1, like ataraxia-local §4.3);
 *   - WebSocket (`ws`): one binary WebSocket message per peer message, no length prefix, text messages ignored,
 *     unknown tags ignored, no BYE on close (WIRE.md §4.4). The published ataraxia-ws-* packages are not on
 *     npm; WebSocketPeer below is the few lines they add on top of ataraxia-transport's AbstractPeer.
 *
 * Driven by JSON lines on stdin, reports JSON lines on stdout (stderr is for diagnostics only):
 *   {"cmd":"listen"}                                   -> {"event":"listening","port":N}        (TCP)
 *   {"cmd":"connect","port":N[,"host":"127.0.0.1"]}    -> {"event":"connected","port":N,"conn":C}   (TCP connected)
 *   {"cmd":"ws-listen"}                                -> {"event":"ws-listening","port":N}
 *   {"cmd":"ws-connect","port":N[,"host":..]}          -> {"event":"ws-connected","port":N,"conn":C} (WebSocket open)
 *   {"cmd":"send","to":"<hex or base62>","type":"t","data":<json>} -> {"event":"sent"} once acknowledged
 *   {"cmd":"send-bytes","to":..,"type":"t","size":N,"seed":S}     -> {"event":"sent"}: a byte string of N
 *       pseudo-random bytes (xorshift32 from S, see patternBytes) as the whole payload
 *   {"cmd":"nodes"}                                    -> {"event":"nodes","ids":["<hex>",...]}
 *   {"cmd":"group-create","group":"g"}                 -> {"event":"group-created"}  (NamedGroup, not joined)
 *   {"cmd":"join-group","group":"g"}                   -> {"event":"group-joined"}   (creates it if needed)
 *   {"cmd":"leave-group","group":"g"}                  -> {"event":"group-left"}
 *   {"cmd":"group-broadcast","group":"g","type":"t","data":<json>} -> {"event":"group-broadcast-sent"}
 *   {"cmd":"group-members","group":"g"}                -> {"event":"group-members","group":"g","ids":[...]}
 *   {"cmd":"leave"}                                    -> {"event":"left"}, then exits
 * Every reply echoes the command's "seq"; a failed command answers {"event":"error","seq":..,"cmd":..,"message":..}.
 * Unsolicited events: ready, available, unavailable, message, peer-connected, peer-disconnected,
 * socket-closed, ws-text-ignored, ws-unknown-ignored, group-member-available, group-member-unavailable,
 * group-membership (the full member list after every change), group-message, trace (every peer message in or
 * out; DATA also with its source, payload length and SHA-256), uncaught (an exception that would have crashed
 * node).
 *
 * JSON data mapping, both ways: Uint8Array/Buffer <-> {"$bytes":"hex"}, undefined <-> {"$undefined":true},
 * Date <-> {"$date":"iso"}, NaN/Infinity/-0 <-> {"$number":"NaN"|"Infinity"|"-Infinity"|"-0"}.
 *
 * Options: --name <network name> (or ATARAXIA_NAME), --secret <s> (shared-secret auth; anonymous without it).
 */

const crypto = require('crypto');
const net = require('net');
const readline = require('readline');

const { WebSocket, WebSocketServer } = require('ws');
const { Network, NamedGroup, AnonymousAuth, SharedSecretAuth } = require('ataraxia');
const {
	AbstractPeer,
	AbstractTransport,
	DisconnectReason,
	PeerMessageType,
	decodeId,
	encodeBinaryPeerMessage,
	decodeBinaryPeerMessage
} = require('ataraxia-transport');
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

function toBuffer(bytes) {
	if(bytes instanceof ArrayBuffer) {
		return Buffer.from(bytes);
	}

	return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toHex(bytes) {
	return toBuffer(bytes).toString('hex');
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

/**
 * N pseudo-random bytes, the same sequence the C# tests compute: xorshift32 (13, 17, 5) seeded with `seed`
 * (0 is replaced by 1), one step per byte, the byte being the low 8 bits of the state.
 */
function patternBytes(size, seed) {
	const bytes = new Uint8Array(size);
	let x = (seed >>> 0) || 1;
	for(let i = 0; i < size; i++) {
		x ^= x << 13; x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5; x >>>= 0;
		bytes[i] = x & 0xff;
	}
	return bytes;
}

function toJson(value) {
	if(value === undefined) return { $undefined: true };
	if(value === null || typeof value === 'boolean' || typeof value === 'string') return value;
	if(typeof value === 'number') {
		if(Object.is(value, -0)) return { $number: '-0' };
		return Number.isFinite(value) ? value : { $number: String(value) };
	}
	if(value instanceof ArrayBuffer || ArrayBuffer.isView(value) && value instanceof Uint8Array) {
		return { $bytes: toHex(value) };
	}
	if(Array.isArray(value)) return value.map(toJson);
	if(value instanceof Date) return { $date: isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString() };
	if(value instanceof RegExp) return { $regexp: String(value) };
	if(typeof value === 'object' && value.constructor === Object) {
		const result = {};
		for(const key of Object.keys(value)) {
			result[key] = toJson(value[key]);
		}
		return result;
	}

	// Tagged, Simple and whatever else the decoder makes: say what it is, never pretend it is a plain value.
	return { $unsupported: Object.prototype.toString.call(value) + ' ' + JSON.stringify(value) };
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
		return {
			msg: name,
			dataType: payload.type,
			target: payload.target ? toHex(payload.target) : undefined,
			source: payload.path && payload.path.length > 0 ? toHex(payload.path[0].node) : undefined,
			hops: payload.path ? payload.path.length : undefined,
			dataLength: payload.data ? payload.data.byteLength : undefined,
			dataSha256: payload.data ? crypto.createHash('sha256').update(toBuffer(payload.data)).digest('hex') : undefined
		};
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

function trace(dir, connection, type, payload) {
	emit({ event: 'trace', dir, conn: connection.id, transport: connection.transport, ms: Date.now() - startedAt, ...describe(type, payload) });
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
		trace('in', this.connection, type, payload);
		super.receiveData(type, payload);
	}

	send(type, message) {
		trace('out', this.connection, type, message);
		return super.send(type, message);
	}
}

/**
 * A peer over one WebSocket (WIRE.md §4.4): each peer message is one binary message holding exactly the bytes
 * of §3, text messages and unknown tags are ignored, a close is not preceded by BYE.
 */
class WebSocketPeer extends AbstractPeer {
	constructor(transportOptions, authProviders, connection) {
		super(transportOptions, authProviders);
		this.connection = connection;
		this.socket = undefined;
	}

	attach(socket, client) {
		this.socket = socket;
		socket.binaryType = 'arraybuffer';
		socket.on('message', (data, isBinary) => {
			if(! isBinary) {
				emit({ event: 'ws-text-ignored', conn: this.connection.id });
				return;
			}

			// Like the published ws peers, a malformed message throws here (reported as "uncaught").
			const decoded = decodeBinaryPeerMessage(data);
			if(decoded === null) {
				emit({ event: 'ws-unknown-ignored', conn: this.connection.id });
				return;
			}

			this.receiveData(decoded[0], decoded[1]);
		});
		socket.on('close', () => {
			if(this.socket === socket) {
				this.handleDisconnect(DisconnectReason.Error);
			}
		});

		if(client) {
			this.negotiateAsClient();
		} else {
			this.negotiateAsServer();
		}
	}

	handleDisconnect(reason, err) {
		this.socket = undefined;
		super.handleDisconnect(reason, err);
	}

	requestDisconnect(reason) {
		const socket = this.socket;
		if(! socket) return;

		if(reason === DisconnectReason.Error || reason === DisconnectReason.PingTimeout) {
			socket.terminate();
		} else {
			socket.close();
		}
	}

	disconnect() {
		super.disconnect();
		if(this.socket) {
			this.socket.close();
		}
	}

	receiveData(type, payload) {
		trace('in', this.connection, type, payload);
		super.receiveData(type, payload);
	}

	send(type, payload) {
		trace('out', this.connection, type, payload);
		const socket = this.socket;
		if(! socket || socket.readyState !== WebSocket.OPEN) {
			return Promise.reject(new Error('Could not send data, connection lost'));
		}

		const data = new Uint8Array(encodeBinaryPeerMessage(type, payload));
		return new Promise((resolve, reject) => socket.send(data, { binary: true }, err => err ? reject(err) : resolve()));
	}
}

/** Connection ids are unique across both transports of the node. */
let nextConnection = 1;

function watchPeer(peer, connection) {
	peer.onConnect(() => emit({ event: 'peer-connected', conn: connection.id, transport: connection.transport, id: toHex(peer.id) }));
	peer.onDisconnect(() => emit({ event: 'peer-disconnected', conn: connection.id, transport: connection.transport, id: toHex(peer.id) }));
}

class PlainTcpTransport extends AbstractTransport {
	constructor(authProviders) {
		super('plain-tcp');
		this.authProviders = authProviders;
		this.servers = new Set();
		this.sockets = new Set();
	}

	handleSocket(socket, client) {
		const connection = { id: nextConnection++, transport: 'tcp' };
		this.sockets.add(socket);
		socket.setNoDelay(true);
		socket.on('error', err => emit({ event: 'socket-error', conn: connection.id, transport: 'tcp', message: err.message }));
		socket.on('close', hadError => {
			this.sockets.delete(socket);
			emit({ event: 'socket-closed', conn: connection.id, transport: 'tcp', client, hadError });
		});

		const peer = new PlainPeer(this.transportOptions, this.authProviders, connection);
		watchPeer(peer, connection);
		this.addPeer(peer);
		peer.attach(socket, client);
		return connection.id;
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

class WebSocketTransport extends AbstractTransport {
	constructor(authProviders) {
		super('ws');
		this.authProviders = authProviders;
		this.servers = new Set();
		this.sockets = new Set();
	}

	handleSocket(socket, client) {
		const connection = { id: nextConnection++, transport: 'ws' };
		this.sockets.add(socket);
		socket.on('error', err => emit({ event: 'socket-error', conn: connection.id, transport: 'ws', message: err.message }));
		socket.on('close', code => {
			this.sockets.delete(socket);
			emit({ event: 'socket-closed', conn: connection.id, transport: 'ws', client, code });
		});

		const peer = new WebSocketPeer(this.transportOptions, this.authProviders, connection);
		watchPeer(peer, connection);
		this.addPeer(peer);
		peer.attach(socket, client);
		return connection.id;
	}

	listen() {
		return new Promise((resolve, reject) => {
			const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
			server.once('error', reject);
			server.once('listening', () => {
				server.removeListener('error', reject);
				server.on('error', err => emit({ event: 'error', message: 'ws server: ' + err.message }));
				server.on('connection', socket => this.handleSocket(socket, false));
				this.servers.add(server);
				resolve(server.address().port);
			});
		});
	}

	connect(host, port) {
		return new Promise((resolve, reject) => {
			const socket = new WebSocket('ws://' + host + ':' + port + '/', { perMessageDeflate: false });
			socket.once('error', reject);
			socket.once('open', () => {
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
			socket.terminate();
		}
	}
}

async function main() {
	const options = parseArgs(process.argv.slice(2));
	const authentication = options.secret !== undefined
		? [ new SharedSecretAuth({ secret: options.secret }) ]
		: [ new AnonymousAuth() ];

	const tcp = new PlainTcpTransport(authentication);
	const ws = new WebSocketTransport(authentication);
	const network = new Network({ name: options.name, transports: [ tcp, ws ] });

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

	const groups = new Map();
	function group(name) {
		let existing = groups.get(name);
		if(existing) return existing;

		// Created before connecting, the group machinery sees every node become available (WIRE.md §12.1).
		existing = new NamedGroup(network, name);
		const members = () => existing.nodes.map(nodeIdHex).sort();
		existing.onNodeAvailable(node => {
			emit({ event: 'group-member-available', group: name, id: nodeIdHex(node) });
			emit({ event: 'group-membership', group: name, ids: members() });
		});
		existing.onNodeUnavailable(node => {
			emit({ event: 'group-member-unavailable', group: name, id: nodeIdHex(node) });
			emit({ event: 'group-membership', group: name, ids: members() });
		});
		existing.onMessage(message => emit({
			event: 'group-message',
			group: name,
			from: nodeIdHex(message.source),
			type: message.type,
			data: toJson(message.data)
		}));
		groups.set(name, existing);
		return existing;
	}

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
		tcp.destroyAll();
		ws.destroyAll();
		process.exit(0);
	}

	function findNode(to) {
		const wanted = String(to);
		const node = network.nodes.find(n => n.id === wanted || nodeIdHex(n) === wanted.toLowerCase());
		if(! node) {
			throw new Error('Node ' + to + ' is not available');
		}
		return node;
	}

	async function run(command) {
		switch(command.cmd) {
			case 'listen': {
				const port = await tcp.listen();
				return { event: 'listening', port };
			}
			case 'connect': {
				const connection = await tcp.connect(command.host || '127.0.0.1', command.port);
				return { event: 'connected', port: command.port, conn: connection };
			}
			case 'ws-listen': {
				const port = await ws.listen();
				return { event: 'ws-listening', port };
			}
			case 'ws-connect': {
				const connection = await ws.connect(command.host || '127.0.0.1', command.port);
				return { event: 'ws-connected', port: command.port, conn: connection };
			}
			case 'send': {
				const node = findNode(command.to);
				await node.send(command.type, fromJson(command.data));
				return { event: 'sent', to: nodeIdHex(node), type: command.type };
			}
			case 'send-bytes': {
				const node = findNode(command.to);
				await node.send(command.type, patternBytes(command.size, command.seed));
				return { event: 'sent', to: nodeIdHex(node), type: command.type };
			}
			case 'nodes':
				return { event: 'nodes', ids: network.nodes.map(nodeIdHex) };
			case 'group-create':
				group(command.group);
				return { event: 'group-created', group: command.group };
			case 'join-group':
				await group(command.group).join();
				return { event: 'group-joined', group: command.group };
			case 'leave-group':
				await group(command.group).leave();
				return { event: 'group-left', group: command.group };
			case 'group-broadcast':
				await group(command.group).broadcast(command.type, fromJson(command.data));
				return { event: 'group-broadcast-sent', group: command.group, type: command.type };
			case 'group-members':
				return { event: 'group-members', group: command.group, ids: group(command.group).nodes.map(nodeIdHex).sort() };
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
