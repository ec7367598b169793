// Packs every package and installs the tarballs into fresh projects outside the workspace, then
// checks them the way a downstream user meets them. `npm run check:packages`, part of `npm test`.
// Needs the npm registry (or its cache) for third-party dependencies.
const {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { ROOT, fail, listPackages, run, runCheck } = require('./workspace.cjs');
const { exportedSubpaths, packageProblems } = require('./package-files.cjs');

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const INSTALL_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
const TIMEOUT_MS = 120_000;

const tmp = mkdtempSync(join(tmpdir(), 'grpc-proxy-packages-'));
const removeTmp = () => rmSync(tmp, { recursive: true, force: true });
process.on('exit', removeTmp);
// Interrupted: clean up, then die of the same signal so the caller sees how the check ended.
const SIGNALS = ['SIGINT', 'SIGTERM'];
function onSignal(signal) {
  removeTmp();
  for (const name of SIGNALS) process.off(name, onSignal);
  process.kill(process.pid, signal);
}
for (const signal of SIGNALS) process.on(signal, onSignal);

// Settings the calling `npm run` exports would otherwise steer the child npm back at the workspace.
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) =>
      !/^npm_config_(call|local_prefix|prefix|workspaces?|include_workspace_root)$/i.test(key),
  ),
);
const exec = (command, args, cwd) => run(command, args, { cwd, env, timeout: TIMEOUT_MS });

function step(title, action) {
  const started = Date.now();
  const result = action();
  process.stdout.write(`ok ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  return result;
}

/** Packs the packages (their prepack builds them); `name → { tarball, files, manifest }`. */
function packAll(packages) {
  const destination = join(tmp, 'tarballs');
  mkdirSync(destination);
  const args = [
    'pack',
    '--json',
    '--pack-destination',
    destination,
    ...packages.flatMap((p) => ['-w', p.name]),
  ];
  const output = exec(NPM, args, undefined);
  let packed;
  try {
    packed = JSON.parse(output);
  } catch {
    fail(`npm pack printed something other than its JSON report:\n${output}`);
  }
  return new Map(
    packed.map(({ name, filename, files }) => [
      name,
      {
        tarball: join(destination, filename),
        files: files.map((file) => file.path),
        manifest: packages.find((p) => p.name === name).manifest,
      },
    ]),
  );
}

/** A fresh project depending on `dependencies`, installed with npm; returns its directory. */
function install(name, dependencies, flags = []) {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const manifest = { name, version: '0.0.0', private: true, dependencies };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  exec(NPM, ['install', ...INSTALL_FLAGS, ...flags], dir);
  return dir;
}

/** Names of every package installed in a project (any depth). */
function installedNames(dir) {
  const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8'));
  return Object.keys(lock.packages).map((key) => key.slice(key.lastIndexOf('node_modules/') + 13));
}

function runSmoke(dir, file) {
  copyFileSync(join(__dirname, 'smoke', file), join(dir, file));
  exec(process.execPath, [file], dir);
}

/** Compiles a strict TypeScript file importing every entry point's types (declaration files included). */
function typecheck(dir, specifiers) {
  const imports = specifiers.map(
    (specifier, index) => `export type * as m${index} from '${specifier}';`,
  );
  writeFileSync(join(dir, 'entry-points.ts'), `${imports.join('\n')}\n`);
  const compilerOptions = {
    module: 'node16',
    target: 'es2022',
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: ['node'],
  };
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, files: ['entry-points.ts'] }),
  );
  exec(
    process.execPath,
    [require.resolve('typescript/bin/tsc', { paths: [ROOT] }), '-p', dir],
    dir,
  );
}

function expectNone(problems, what) {
  if (problems.length) fail(`${what}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

function main() {
  const packages = listPackages();
  const packed = step(`packed ${packages.length} packages`, () => packAll(packages));
  const tarball = (name) => `file:${packed.get(name).tarball}`;
  const local = (names) => Object.fromEntries(names.map((name) => [name, tarball(name)]));

  step('@grpc-proxy/codec alone installs nothing else and works', () => {
    const dir = install('codec-only', local(['@grpc-proxy/codec']));
    const extra = installedNames(dir).filter((name) => name !== '@grpc-proxy/codec');
    expectNone(
      extra.map((name) => `it pulled ${name}`),
      '@grpc-proxy/codec must install alone',
    );
    runSmoke(dir, 'codec.cjs');
  });

  const proxy = packed.get('@grpc-proxy/proxy').manifest;
  const runtime = {
    ...proxy.dependencies,
    ...proxy.peerDependencies,
    ...proxy.optionalDependencies,
  };
  const layers = Object.keys(runtime).filter((name) => packed.has(name));
  expectNone(
    layers.filter((name) => name === '@grpc-proxy/testing').map((name) => `it depends on ${name}`),
    '@grpc-proxy/proxy must not need the test kit at run time',
  );
  // The versions the workspace itself uses: already in npm's cache.
  const thirdParty = {
    '@grpc/grpc-js': proxy.devDependencies['@grpc/grpc-js'],
    '@types/node': JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies[
      '@types/node'
    ],
  };
  const app = step('@grpc-proxy/proxy installs with --omit=dev, without the test kit', () => {
    const dir = install('app', { ...local(['@grpc-proxy/proxy', ...layers]), ...thirdParty }, [
      '--omit=dev',
    ]);
    const kit = installedNames(dir).filter((name) => name === '@grpc-proxy/testing');
    expectNone(
      kit.map((name) => `it pulled ${name}`),
      'npm install --omit=dev @grpc-proxy/proxy',
    );
    return dir;
  });

  step('director + handler compose a working proxy', () => runSmoke(app, 'compose.cjs'));
  step('the grpc-proxy bin runs', () => {
    const bin = join(app, 'node_modules', '.bin', 'grpc-proxy');
    const version = exec(bin, ['--version'], app).trim();
    if (version !== proxy.version)
      fail(`grpc-proxy --version printed ${version}, expected ${proxy.version}`);
    exec(bin, ['--help'], app);
  });

  const entryPoints = (names) =>
    names.flatMap((name) =>
      exportedSubpaths(packed.get(name).manifest).map((subpath) => name + subpath.slice(1)),
    );
  step('their declarations compile in a strict project', () =>
    typecheck(app, entryPoints(['@grpc-proxy/proxy', ...layers])),
  );

  step('@grpc-proxy/testing installs beside them and its bin runs', () => {
    exec(NPM, ['install', ...INSTALL_FLAGS, '--no-save', tarball('@grpc-proxy/testing')], app);
    exec(join(app, 'node_modules', '.bin', 'grpc-proxy-echo'), ['--help'], app);
  });

  // Engines the umbrella does not pull yet (@grpc-proxy/http2): beside it, on the same layers.
  const others = [...packed.keys()].filter(
    (name) =>
      name !== '@grpc-proxy/testing' && name !== '@grpc-proxy/proxy' && !layers.includes(name),
  );
  if (others.length > 0) {
    step(`${others.join(', ')} install beside them and their declarations compile`, () => {
      // The test kit again: a --no-save install prunes what the last one added.
      const beside = [...others, '@grpc-proxy/testing'].map(tarball);
      exec(NPM, ['install', ...INSTALL_FLAGS, '--no-save', ...beside], app);
      typecheck(app, entryPoints(others));
    });
  }

  step('every entry point loads, maps resolve, manifests name shipped files', () => {
    const problems = [...packed].flatMap(([name, { files }]) =>
      packageProblems(join(app, 'node_modules', ...name.split('/')), files).map(
        (p) => `${name}: ${p}`,
      ),
    );
    expectNone(problems, 'The packed packages have defects');
    const requires = entryPoints([...packed.keys()]);
    exec(process.execPath, ['-e', `${JSON.stringify(requires)}.forEach((m) => require(m))`], app);
  });
}

const started = Date.now();
runCheck(() => {
  main();
  process.stdout.write(
    `Packages check passed in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`,
  );
});
