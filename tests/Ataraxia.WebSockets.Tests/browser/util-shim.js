// What the ataraxia packages take from Node's `util` module, for the browser bundle: `inspect.custom` (a symbol
// that only changes how Node prints a node) and `TextEncoder` (built into browsers).
export const inspect = { custom: Symbol.for('nodejs.util.inspect.custom') };
export const TextEncoder = globalThis.TextEncoder;
