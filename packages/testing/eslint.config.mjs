import base from '../../eslint.config.mjs';

export default [
  ...base,
  // Compiled output of the CLI tests (see src/test-support/cli-process.ts).
  { ignores: ['out-tsc/**'] },
  {
    // Repo scripts run on Node as ES modules.
    files: ['scripts/**/*.mjs'],
    languageOptions: {
      sourceType: 'module',
      globals: { URL: 'readonly', console: 'readonly', process: 'readonly' },
    },
  },
];
