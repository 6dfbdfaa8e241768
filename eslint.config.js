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
    ignores: ['src/node/**', 'src/postgres/**', 'src/opentelemetry/**', 'src/cli/**'],
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
);
