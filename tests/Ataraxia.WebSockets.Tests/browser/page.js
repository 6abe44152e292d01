// A browser page that joins a .NET Ataraxia mesh over WebSocket with the real JavaScript library, bundled by
// esbuild (build.mjs). The published packages have no browser WebSocket transport, so the few lines below add
// one on top of ataraxia-transport's AbstractPeer, following WIRE.md §4.4: each peer message is one binary
// WebSocket message without a length prefix, text messages are ignored, the client negotiates on 'open' and
// closes without BYE.
//
// Query string: target = the id of the .NET node to greet, secret = the shared secret (anonymous if absent),
// mesh = the WebSocket path on this page's server (default /mesh). The outcome goes to the page's reportResult.
import { Network, AnonymousAuth, SharedSecretAuth } from 'ataraxia';
import {
	AbstractPeer,
	AbstractTransport,
	DisconnectReason,
	encodeBinaryPeerMessage,
	decodeBinaryPeerMessage
} from 'ataraxia-transport';

class BrowserWebSocketPeer extends AbstractPeer {
	constructor(transportOptions, authProviders, socket) {
		super(transportOptions, authProviders);
		this.socket = socket;
		socket.binaryType = 'arraybuffer';
		socket.addEventListener('message', event => {
			if(typeof event.data === 'string') {
				return;
			}

			const decoded = decodeBinaryPeerMessage(event.data);
			if(decoded) {
				this.receiveData(decoded[0], decoded[1]);
			}
		});
		socket.addEventListener('open', () => this.negotiateAsClient());
		socket.addEventListener('close', () => this.handleDisconnect(DisconnectReason.Error));
	}

	requestDisconnect() {
		this.socket.close();
	}

	disconnect() {
		super.disconnect();
		this.socket.close();
	}

	send(type, payload) {
		if(this.socket.readyState !== WebSocket.OPEN) {
			return Promise.reject(new Error('The WebSocket is not open.'));
		}

		this.socket.send(new Uint8Array(encodeBinaryPeerMessage(type, payload)));
		return Promise.resolve();
	}
}

class BrowserWebSocketTransport extends AbstractTransport {
	constructor(url, authProviders) {
		super('ws-browser');
		this.url = url;
		this.authProviders = authProviders;
	}

	async start(options) {
		if(! await super.start(options)) {
			return false;
		}

		this.addPeer(new BrowserWebSocketPeer(this.transportOptions, this.authProviders, new WebSocket(this.url)));
		return true;
	}
}

// The page defines reportResult (POST /result, once) before this script runs, so errors while loading the
// bundle are reported too.
const report = result => window.reportResult(result);

async function main() {
	const params = new URLSearchParams(location.search);
	const target = params.get('target');
	const secret = params.get('secret');
	const url = new URL(params.get('mesh') || '/mesh', location.href);
	url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

	const auth = secret ? [ new SharedSecretAuth({ secret }) ] : [ new AnonymousAuth() ];
	const network = new Network({ name: 'browser', transports: [ new BrowserWebSocketTransport(url.href, auth) ] });

	network.onNodeAvailable(node => {
		if(node.id === target) {
			node.send('browser-hello', { text: 'hello from the browser', n: 42 })
				.catch(err => report({ ok: false, error: 'send failed: ' + String(err) }));
		}
	});
	network.onMessage(message => {
		if(message.type === 'dotnet-reply') {
			report({
				ok: true,
				id: network.networkId,
				from: message.source.id,
				text: message.data.text,
				echo: message.data.echo
			});
		}
	});

	await network.join();
	document.getElementById('status').textContent = 'joined as ' + network.networkId;
}

main().catch(err => report({ ok: false, error: String((err && err.stack) || err) }));
