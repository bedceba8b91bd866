// Lint with zero warnings allowed (`npm run lint`). The import restrictions make the dependency
// direction of DESIGN.md part of the build: protocol imports nothing of ours, the client never
// loads the LLM SDKs or the LLM layer, the store and the LLM layer never import the layers above them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const llmSdks = ['@anthropic-ai/sdk', '@anthropic-ai/sdk/*', 'openai', 'openai/*'];
const sdkPaths = llmSdks.filter((p) => !p.endsWith('*')).map((name) => ({ name, message: 'LLM SDKs load in the daemon only.' }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.bench/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly',
        URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Terminal tests match escape sequences and BEL on purpose.
    files: ['test/**/*.ts', 'src/**/*.test.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../*'], message: 'src/protocol is pure: it imports nothing of ours.' }] }],
    },
  },
  {
    files: ['src/client/**/*.ts', 'src/transport/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: sdkPaths,
        patterns: [{ group: ['../llm/*', '../daemon/*', ...llmSdks], message: 'The client and the lower layers never import the daemon or the LLM layer.' }],
      }],
    },
  },
  {
    // The store is below everything that reads it: its records, readers and renderer are shared by
    // the daemon, the commands and the LLM layer.
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: sdkPaths,
        patterns: [{ group: ['../llm/*', '../daemon/*', '../commands/*', '../client/*', ...llmSdks], message: 'src/store imports no daemon, LLM, command or client code.' }],
      }],
    },
  },
  {
    // The LLM layer reads the store; what it needs from the commands or the daemon belongs lower down.
    files: ['src/llm/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['../daemon/*', '../commands/*', '../client/*', '../../daemon/*', '../../commands/*', '../../client/*'], message: 'src/llm imports no daemon, command or client code.' }],
      }],
    },
  },
);
