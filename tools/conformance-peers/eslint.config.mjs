import globals from 'globals';
import base from '../../eslint.config.mjs';

export default [
  ...base,
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
  },
];
