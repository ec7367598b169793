import { conformanceCases } from './cases';
import { selectCases } from './describe-proxy-conformance';

describe('conformanceCases', () => {
  it('lists every case the issue asks for, each once, with a description and a budget', () => {
    const names = conformanceCases.map((c) => c.name);
    expect(names).toEqual([
      'empty_unary',
      'large_unary',
      'client_streaming',
      'server_streaming',
      'ping_pong',
      'empty_stream',
      'opaque_payload',
      'custom_metadata',
      'no_request_headers_added',
      'no_response_headers_added',
      'metadata_value_8_kib',
      'metadata_value_32_kib',
      'metadata_100_entries',
      'metadata_bin_every_byte',
      'compressed_request_stays_compressed',
      'compressed_response_stays_compressed',
      'status_code_and_message',
      'special_status_message',
      'status_details',
      'malformed_status_details',
      'trailers_only_error',
      'unimplemented_method',
      'unimplemented_service',
      'cancel_after_begin',
      'cancel_after_first_response',
      'timeout_on_sleeping_server',
      'deadline_propagated',
      'headers_first_then_wait',
      'half_close_reaches_backend',
      'backend_ends_first',
      'stress',
      'backend_restart_loses_no_call',
      'slow_reader_gets_64_mib',
      'idle_stream_stays_open',
    ]);
    expect(conformanceCases.filter((c) => c.slow).map((c) => c.name)).toEqual([
      'idle_stream_stays_open',
    ]);
    for (const c of conformanceCases) {
      expect(c.description.length).toBeGreaterThan(20);
      expect(c.timeoutMs).toBeGreaterThanOrEqual(30_000);
      expect(c.timeoutFor()).toBe(c.timeoutMs);
    }
  });

  it('gives the idle case the budget of the idle time asked for, and no other case', () => {
    const budgets = conformanceCases.map((c) => [c.name, c.timeoutFor({ idleStreamMs: 200_000 })]);
    expect(budgets.filter(([name]) => name === 'idle_stream_stays_open')).toEqual([
      ['idle_stream_stays_open', 260_000],
    ]);
    expect(
      conformanceCases.filter((c) => c.timeoutFor({ idleStreamMs: 200_000 }) !== c.timeoutMs),
    ).toHaveLength(1);
  });
});

describe('selectCases', () => {
  it('selects every case but the slow ones by default, and those too with includeSlow', () => {
    expect(selectCases({})).toEqual(conformanceCases.filter((c) => !c.slow));
    expect(selectCases({ includeSlow: true })).toEqual(conformanceCases);
  });

  it('runs a slow case named in only, without includeSlow', () => {
    expect(selectCases({ only: ['idle_stream_stays_open'] }).map((c) => c.name)).toEqual([
      'idle_stream_stays_open',
    ]);
  });

  it('keeps only the named cases, minus the skipped ones, in suite order', () => {
    const selected = selectCases({
      only: ['stress', 'empty_unary', 'ping_pong'],
      skip: ['ping_pong'],
    });
    expect(selected.map((c) => c.name)).toEqual(['empty_unary', 'stress']);
  });

  it('rejects unknown names so a typo cannot skip a case silently', () => {
    expect(() => selectCases({ skip: ['strees'] })).toThrow(
      /^unknown conformance case "strees"; known: empty_unary, large_unary, /,
    );
  });
});
