// ESLint (flat config): JavaScript's and typescript-eslint's recommended rules; formatting is
// Prettier's business (eslint-config-prettier turns the overlapping rules off).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'outputs/', 'site/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      // `const { vocabulary: _words, ...rest } = x` drops a field on purpose; `_x` marks a parameter kept for a signature.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // bin/, kernel/ and scripts/ are plain CommonJS scripts that run without a build step.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['src/web/**'], languageOptions: { globals: { ...globals.browser, ...globals.worker } } },
  prettier,
);
