// Lint with zero warnings allowed (`npm run lint`). Which folder may import which is not lint's
// business: dependency-cruiser checks it (.dependency-cruiser.mjs, `npm run depcheck`), dynamic
// import() included.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
);
