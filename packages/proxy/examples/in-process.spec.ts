import { main } from './in-process';

describe('README example (examples/in-process.ts)', () => {
  it('starts the proxy in-process, calls through it and drains it', async () => {
    await expect(main()).resolves.toBe('backend-1 answered with status 0');
  });
});
