// Bundles page.js and the pinned ataraxia packages into one script for the browser test.
// Usage: node build.mjs <outfile>
import { build } from 'esbuild';

const outfile = process.argv[2];
if(! outfile) {
	console.error('usage: node build.mjs <outfile>');
	process.exit(2);
}

// Node's `util` is replaced by the little the packages use of it (util-shim.js).
const utilShim = {
	name: 'util-shim',
	setup(build) {
		build.onResolve({ filter: /^util$/ }, () => ({ path: new URL('./util-shim.js', import.meta.url).pathname }));
	}
};

await build({
	entryPoints: [ new URL('./page.js', import.meta.url).pathname ],
	bundle: true,
	format: 'iife',
	platform: 'browser',
	target: 'es2020',
	// A Node fallback inside ataraxia-transport, reached only when there is no `window` (never in a page).
	external: [ 'crypto' ],
	plugins: [ utilShim ],
	outfile,
	logLevel: 'warning'
});
