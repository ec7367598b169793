import { PROXY_HEAP_GROWING_PERCENT, tuneHeapForProxying } from './heap-tuning';

describe('tuneHeapForProxying', () => {
  function run(execArgv: string[], nodeOptions: string) {
    const set: string[] = [];
    const applied = tuneHeapForProxying({ execArgv, nodeOptions, setFlags: (f) => set.push(f) });
    return { applied, set };
  }

  it('sets --heap-growing-percent=300 when the user set none', () => {
    expect(PROXY_HEAP_GROWING_PERCENT).toBe(300);
    expect(run(['--enable-source-maps'], '--max-old-space-size=512')).toEqual({
      applied: true,
      set: ['--heap-growing-percent=300'],
    });
  });

  it.each([
    [['--heap-growing-percent=50'], ''],
    [['--heap_growing_percent=50'], ''],
    [[], '--max-old-space-size=512 --heap-growing-percent=50'],
    [[], '--heap_growing_percent=50'],
  ])('keeps the user setting (execArgv %j, NODE_OPTIONS %j)', (execArgv, nodeOptions) => {
    expect(run(execArgv, nodeOptions)).toEqual({ applied: false, set: [] });
  });

  it('does not mistake a longer flag name for the setting', () => {
    expect(run(['--heap-growing-percentage-of-something'], '').applied).toBe(true);
  });
});
