import { ConfigError } from '../config/config-error';
import { parseConfig } from '../config/load';

/** The issues (`path: message`) of an invalid config text; fails the test when it is valid. */
export function issuesOf(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml', '/etc/grpc-proxy');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  throw new Error('expected a ConfigError');
}
