import Ajv, { type ErrorObject } from 'ajv';
import { parseFieldPath } from '../message-fields';
import { ConfigError, type ConfigIssue } from './config-error';
import { proxyConfigSchema } from './schema';
import { ipServerNameIssues } from './tls-server-name';
import type { MirrorConfig, ProxyConfig, RouteConfig } from './types';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
// `errorMessage` is our own annotation: a friendlier message for `pattern` failures.
ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
const validateSchema = ajv.compile<ProxyConfig>(proxyConfigSchema);

/** Turns a JSON pointer (`/backends/0/name`) into a readable field path (`backends[0].name`). */
function fieldPath(pointer: string, child?: string): string {
  const parts = pointer.split('/').slice(1).map(unescapePointer);
  if (child !== undefined) parts.push(child);
  let path = '';
  for (const part of parts) {
    if (/^\d+$/.test(part)) path += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) path += path ? `.${part}` : part;
    else path += `[${JSON.stringify(part)}]`;
  }
  return path || '(root)';
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function issueFromAjv(error: ErrorObject): ConfigIssue | undefined {
  const params = error.params as Record<string, unknown>;
  const propertyName = (error as { propertyName?: string }).propertyName;
  switch (error.keyword) {
    case 'required':
      return {
        path: fieldPath(error.instancePath, String(params.missingProperty)),
        message: 'is required',
      };
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      return {
        path: fieldPath(error.instancePath, String(params.additionalProperty)),
        message: `unknown field (allowed here: ${known.join(', ')})`,
      };
    }
    case 'type': {
      const types = ([] as string[]).concat(params.type as string | string[]);
      return {
        path: fieldPath(error.instancePath),
        message: `must be ${types.map(article).join(' or ')}, got ${describeValue(error.data)}`,
      };
    }
    case 'enum':
      return {
        path: fieldPath(error.instancePath),
        message: `must be one of ${(params.allowedValues as unknown[]).join(', ')}, got ${describeValue(error.data)}`,
      };
    case 'pattern': {
      const friendly = (error.parentSchema as { errorMessage?: string }).errorMessage;
      const path =
        propertyName !== undefined
          ? fieldPath(error.instancePath, propertyName)
          : fieldPath(error.instancePath);
      return {
        path,
        message: `${friendly ?? `must match ${String(params.pattern)}`}, got ${JSON.stringify(error.data)}`,
      };
    }
    case 'propertyNames':
      // The nested `pattern` error already names the offending key.
      return undefined;
    default:
      return { path: fieldPath(error.instancePath), message: error.message ?? 'is invalid' };
  }
}

function article(type: string): string {
  if (type === 'array' || type === 'object' || type === 'integer') return `an ${type}`;
  return `a ${type}`;
}

/** Checks that each mirror names a known backend (`mirror.backend`, or `mirror[1].backend`). */
function checkMirrors(
  path: string,
  mirror: MirrorConfig | undefined,
  checkName: (path: string, name: string) => void,
): void {
  if (mirror === undefined) return;
  if (!Array.isArray(mirror)) checkName(`${path}.backend`, mirror.backend);
  else mirror.forEach((each, index) => checkName(`${path}[${index}].backend`, each.backend));
}

/**
 * A route goes to `backend` or fans out (`fanOut`), never both nor neither; the backends it names
 * must exist.
 */
function routeTargetIssues(
  route: RouteConfig,
  path: string,
  checkName: (path: string, name: string) => void,
): ConfigIssue[] {
  const { backend, fanOut } = route;
  if (backend !== undefined && fanOut !== undefined) {
    return [
      { path, message: 'has both backend and fanOut: a route goes to one backend or fans out' },
    ];
  }
  if (backend === undefined && fanOut === undefined) {
    return [{ path, message: 'needs backend (one backend) or fanOut (several backends at once)' }];
  }
  if (backend !== undefined) checkName(`${path}.backend`, backend);
  fanOut?.backends.forEach((name, index) => checkName(`${path}.fanOut.backends[${index}]`, name));
  return [];
}

/**
 * Each field path of a route's `message` condition must parse (field numbers joined by dots),
 * and each number value must be exact (a YAML number past 2^53 has lost digits: quote it).
 */
function messageConditionIssues(route: RouteConfig, path: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [fieldPath, value] of Object.entries(route.message ?? {})) {
    // As the schema errors name it (see fieldPath): `message[1]`, `message["9.2"]`.
    const key = /^\d+$/.test(fieldPath) ? fieldPath : JSON.stringify(fieldPath);
    const at = `${path}.message[${key}]`;
    try {
      parseFieldPath(fieldPath);
    } catch (error) {
      issues.push({ path: at, message: (error as Error).message });
    }
    for (const each of ([] as unknown[]).concat(value)) {
      if (typeof each === 'number' && !Number.isSafeInteger(each)) {
        issues.push({ path: at, message: `${each} is past 2^53 and not exact: quote it` });
      }
    }
  }
  return issues;
}

function crossFieldIssues(config: ProxyConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const firstIndexByName = new Map<string, number>();
  config.backends.forEach((backend, index) => {
    const tls = backend.tls;
    if (tls && (tls.cert === undefined) !== (tls.key === undefined)) {
      issues.push({
        path: `backends[${index}].tls`,
        message: 'cert and key must be given together',
      });
    }
    if (backend.balancing === 'first_healthy' && !backend.healthCheck) {
      issues.push({
        path: `backends[${index}].balancing`,
        message: 'first_healthy needs healthCheck',
      });
    }
    const earlier = firstIndexByName.get(backend.name);
    if (earlier !== undefined) {
      issues.push({
        path: `backends[${index}].name`,
        message: `duplicate backend name "${backend.name}" (also backends[${earlier}].name)`,
      });
    } else firstIndexByName.set(backend.name, index);
  });
  const known = [...firstIndexByName.keys()];
  const checkName = (path: string, name: string) => {
    if (!firstIndexByName.has(name)) {
      issues.push({ path, message: `unknown backend "${name}" (known: ${known.join(', ')})` });
    }
  };
  (config.routes ?? []).forEach((route, index) => {
    const { service, method, metadata, message } = route;
    if (service === undefined && method === undefined && !metadata && !message) {
      issues.push({
        path: `routes[${index}]`,
        message: 'needs at least one condition: service, method, metadata or message',
      });
    }
    issues.push(...messageConditionIssues(route, `routes[${index}]`));
    issues.push(...routeTargetIssues(route, `routes[${index}]`, checkName));
    const fanOutName = route.fanOut?.name;
    if (fanOutName !== undefined && firstIndexByName.has(fanOutName)) {
      issues.push({
        path: `routes[${index}].fanOut.name`,
        message: `"${fanOutName}" is a backend's name; a fan-out needs its own (logs and metrics tell them apart by name)`,
      });
    }
    checkMirrors(`routes[${index}].mirror`, route.mirror, checkName);
  });
  checkMirrors('mirror', config.mirror, checkName);
  if (config.defaultBackend !== undefined) checkName('defaultBackend', config.defaultBackend);
  else if (config.backends.length > 1 && (config.routes ?? []).length === 0) {
    issues.push({
      path: 'defaultBackend',
      message: `is required when there are several backends and no routes (known: ${known.join(', ')})`,
    });
  }
  return issues;
}

/**
 * Checks a parsed config document against the schema, the cross-field rules, and what the
 * running Node can do (TLS to an IP-address target needs `tls.serverName` on Node 26).
 *
 * @param document - the parsed YAML or JSON value
 * @param source - where it came from, for the error message
 * @returns the same value, typed
 * @throws {@link ConfigError} listing every issue found
 */
export function validateConfig(document: unknown, source: string): ProxyConfig {
  if (!validateSchema(document)) {
    const issues = (validateSchema.errors ?? [])
      .map(issueFromAjv)
      .filter((i): i is ConfigIssue => !!i);
    throw new ConfigError(source, issues);
  }
  const issues = [...crossFieldIssues(document), ...ipServerNameIssues(document)];
  if (issues.length > 0) throw new ConfigError(source, issues);
  return document;
}
