'use strict';
// Preloaded (`node -r`) into a proxy being profiled: exit normally on SIGTERM so that
// `--cpu-prof` writes its profile whatever the proxy's own signal handling does.
process.on('SIGTERM', () => process.exit(0));
