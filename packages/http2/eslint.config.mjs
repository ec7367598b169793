import base from '../../eslint.config.mjs';

// `tsc --build tsconfig.json --emitDeclarationOnly` writes spec declarations to out-tsc/.
export default [{ ignores: ['out-tsc/**'] }, ...base];
