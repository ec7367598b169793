// Stands in for your proxy in this package's own run of the example: a minimal grpc-js
// forwarder from the package's test support. Replace it with however you start yours.
export { startForwarder as startMyProxy } from '../src/test-support/forwarder';
