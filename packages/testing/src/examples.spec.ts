import { join } from 'node:path';
import { describeReadmeExamples } from './readme-examples';

// The README's examples are these files, run as tests here.
import '../examples/echo-server.example';
import '../examples/conformance.example';

describeReadmeExamples(join(__dirname, '..'), [
  'examples/echo-server.example.ts',
  'examples/conformance.example.ts',
]);
