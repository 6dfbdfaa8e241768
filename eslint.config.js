import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/fixtures/**', 'bench/out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The core runs in browsers: it may not reach for Node built-ins or for the integrations.
    files: ['src/**/*.ts'],
    ignores: ['src/node/**', 'src/postgres/**', 'src/opentelemetry/**', 'src/cli/**', 'src/testing/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'The core runs in browsers: no Node built-ins outside src/node and src/cli.' },
          { group: ['**/node/**', '**/postgres/**', '**/opentelemetry/**', '**/cli/**', 'pg', '@opentelemetry/*'],
            message: 'The core never imports an integration.' },
        ],
      }],
    },
  },
  {
    // nexus-store/testing, the conformance suite: Node's test runner and assert, nothing else outside the core.
    files: ['src/testing/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', '!node:test', '!node:assert', '!node:assert/strict'],
            message: 'nexus-store/testing may use node:test and node:assert only.' },
          { group: ['**/node/**', '**/postgres/**', '**/opentelemetry/**', '**/cli/**', 'pg', '@opentelemetry/*'],
            message: 'nexus-store/testing never imports an integration.' },
        ],
      }],
    },
  },
);
