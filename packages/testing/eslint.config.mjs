import base from '../../eslint.config.mjs';

export default [
  ...base,
  {
    // Repo scripts run on Node as ES modules.
    files: ['scripts/**/*.mjs'],
    languageOptions: {
      sourceType: 'module',
      globals: { URL: 'readonly', console: 'readonly', process: 'readonly' },
    },
  },
];
