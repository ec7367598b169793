import { join } from 'node:path';
import { describeReadmeExamples } from '@grpc-proxy/testing';

// The README shows examples/composed-proxy.ts, which src/composed-proxy.spec.ts runs, and
// examples/route-on-field.ts, which src/route-on-field.spec.ts runs, and
// examples/mirror.ts, which src/with-mirror.spec.ts runs, and examples/fan-out.ts, which
// src/fan-out-example.spec.ts runs.
describeReadmeExamples(join(__dirname, '..'), [
  'examples/composed-proxy.ts',
  'examples/route-on-field.ts',
  'examples/mirror.ts',
  'examples/fan-out.ts',
]);
