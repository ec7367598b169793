import { join } from 'node:path';
import { describeReadmeExamples } from '@grpc-proxy/testing';

// The README shows examples/composed-proxy.ts, which src/composed-proxy.spec.ts runs.
describeReadmeExamples(join(__dirname, '..'), ['examples/composed-proxy.ts']);
