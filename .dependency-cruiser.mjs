// The dependency rules of docs/architecture.md ("Layers"), checked by `npm run depcheck` (part of
// `npm test`). One rule per line of the table there: keep the two in step. dependency-cruiser
// follows static imports, `export ... from`, `import type` and dynamic `import('...')` alike, so a
// lazy import cannot slip past a rule. Test files and test helpers are outside the layering.

/** A module of ours (what the layer rules are about; npm packages and node: have rules of their own). */
const OURS = '^src/';

/**
 * The line "LAYER may import MAY" of the table: a module in src/LAYER/ imports nothing of ours
 * outside src/LAYER/ and the folders in `may`.
 */
function layer(name, may, comment, except = []) {
  return {
    name: `${name}-imports`,
    comment,
    severity: 'error',
    from: { path: `^src/${name}/` },
    to: { path: OURS, pathNot: [`^src/(${[name, ...may].join('|')})/`, ...except] },
  };
}

const LLM_SDKS = '(^|/)node_modules/(@anthropic-ai/sdk|openai)/';

export default {
  forbidden: [
    layer('protocol', [], 'src/protocol is pure: frames and message types, it imports nothing of ours.'),
    layer('common', ['protocol'], 'src/common (paths, errors, sanitizer) sits on protocol only (it re-exports ProtocolError).'),
    layer('redact', [], 'src/redact (secret redaction) imports nothing of ours: the LLM context and omnish mcp redact with the same code.'),
    layer('config', ['common'], 'src/config loads and validates config.toml: common only.'),
    layer('shell', ['common'], 'src/shell (integration scripts, launching, resolving the real shell): common only.'),
    layer('transport', ['protocol', 'common'], 'src/transport carries frames: it knows the protocol, not the daemon, its lifecycle or the store.'),
    layer('store', ['config', 'common'], 'src/store is the session directories on disk: no protocol, no transport, no LLM.'),
    layer('search', ['store', 'config', 'common'], 'src/search is the SQLite index derived from the store: it reads the store, never the protocol, the daemon or the commands.'),
    layer('tools', ['search', 'store', 'redact', 'config', 'common'], 'src/tools are the read-only tools over the record (search, sessions, outputs), SDK-free: omnish mcp and omnishd\'s tool loop share them; never the protocol, the daemon, the commands or the LLM layer.'),
    layer('llm', ['redact', 'store', 'config', 'common'], 'src/llm builds context from the store and talks to backends; it never reaches up to the daemon or the commands.'),
    layer('control', ['transport', 'protocol', 'common'], 'src/control (control requests to omnishd, starting it) serves the client, the commands and the daemon alike.'),
    layer('commands', ['control', 'transport', 'protocol', 'tools', 'store', 'search', 'redact', 'shell', 'config', 'common'],
      'src/commands run in the client process (omnish NAME, ::NAME): they talk to the daemon through src/control and never import the client, the daemon or the LLM layer (but for the native addon\'s leaf loader, which doctor checks).',
      ['^src/client/native/addon\\.ts$']),
    layer('client', ['commands', 'control', 'transport', 'protocol', 'shell', 'config', 'common'],
      'src/client is on top: the relay, the prompt and the CLI entry use the commands; it never imports the daemon, the store or the LLM layer.'),
    layer('daemon', ['llm', 'tools', 'search', 'store', 'control', 'transport', 'protocol', 'shell', 'config', 'common'],
      'src/daemon is on top: everything below it, never the client or the commands (their code runs in the client process).'),
    {
      name: 'known-layer',
      comment: 'Every folder of src/ is a line of the table: a new folder gets its rule before it gets imports.',
      severity: 'error',
      from: { path: OURS, pathNot: '^src/(protocol|common|redact|config|shell|transport|store|search|tools|llm|control|commands|client|daemon)/' },
      to: {},
    },
    {
      name: 'client-never-loads-llm',
      comment: 'The client process (src/client and every command it runs) never loads src/llm or an LLM SDK, by any chain of imports, lazy ones included: start-up stays fast and LLM code runs in omnishd only.',
      severity: 'error',
      from: { path: '^src/(client|commands)/' },
      to: { path: ['^src/llm/', LLM_SDKS], reachable: true },
    },
    {
      name: 'sqlite-in-search-only',
      comment: 'The SQLite binding (node:sqlite, better-sqlite3) is loaded by src/search/sqlite.ts alone, lazily: nothing else may reach it, so start-up and the client relay never pay for it.',
      severity: 'error',
      from: { path: OURS, pathNot: '^src/search/sqlite\\.ts$' },
      to: { path: ['(^|/)node_modules/better-sqlite3/', '^node:sqlite$', '^sqlite$'] },
    },
    {
      name: 'client-never-imports-search',
      comment: 'The client relay (src/client) never imports the search index: ::search runs omnish search in a child process.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: '^src/search/' },
    },
    {
      name: 'llm-sdks-in-llm-only',
      comment: 'The LLM SDKs are imported by the backends in src/llm only.',
      severity: 'error',
      from: { pathNot: '^src/llm/' },
      to: { path: LLM_SDKS },
    },
    {
      name: 'resolvable',
      comment: 'Every import resolves: a rule cannot judge an import it cannot follow.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Tests reach across layers on purpose (a client test may use a daemon); so do test helpers.
    exclude: { path: '\\.test\\.ts$|/testing(/|\\.ts$)' },
    doNotFollow: { path: 'node_modules' },
    // `import type` is a dependency of the source even though it leaves no trace at run time.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
