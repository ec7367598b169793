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
      'custom_metadata',
      'status_code_and_message',
      'special_status_message',
      'status_details',
      'trailers_only_error',
      'unimplemented_method',
      'unimplemented_service',
      'cancel_after_begin',
      'cancel_after_first_response',
      'timeout_on_sleeping_server',
      'headers_first_then_wait',
      'half_close_reaches_backend',
      'backend_ends_first',
      'stress',
    ]);
    for (const c of conformanceCases) {
      expect(c.description.length).toBeGreaterThan(20);
      expect(c.timeoutMs).toBeGreaterThanOrEqual(30_000);
    }
  });
});

describe('selectCases', () => {
  it('selects every case by default', () => {
    expect(selectCases({})).toEqual(conformanceCases);
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
