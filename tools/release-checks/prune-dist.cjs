// Part of every package's prepack: deletes what dist/ holds for sources that no longer exist
// (a renamed or removed src/*.ts), which an incremental `tsc --build` leaves behind and a pack
// would ship. Run in the package's directory.
const { existsSync, readdirSync, rmSync } = require('node:fs');
const { join, relative } = require('node:path');

const OUTPUT = /\.(d\.ts|js)(\.map)?$/;

function prune(dir, sourceDir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(path, join(sourceDir, entry.name));
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
    } else if (OUTPUT.test(entry.name)) {
      const source = join(sourceDir, entry.name.replace(OUTPUT, '.ts'));
      if (!existsSync(source)) {
        rmSync(path);
        process.stderr.write(
          `removed ${relative(process.cwd(), path)} (no ${relative(process.cwd(), source)})\n`,
        );
      }
    }
  }
}

prune(join(process.cwd(), 'dist'), join(process.cwd(), 'src'));
