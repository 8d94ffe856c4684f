'use strict';
/**
 * Settings of a function server, read once from the environment (CONTRACT.md §1 and §5),
 * with the names, defaults and rules of crates/runtime/src/config.rs.
 */

const net = require('node:net');

/** The contract's default body limit: 6 MiB, as AWS Lambda's synchronous payload limit. */
const DEFAULT_MAX_BODY = 6 * 1024 * 1024;

/** A setting with a value that cannot be used; the message names the variable. */
class ConfigError extends Error {
  /**
   * @param {string} name the environment variable
   * @param {string} value its value
   * @param {string} expected what it should have been
   */
  constructor(name, value, expected) {
    super(`${name}=\`${value}\` is not valid: expected ${expected}`);
    this.name = 'ConfigError';
    this.variable = name;
  }
}

/**
 * @typedef {object} Config
 * @property {number} port `PORT` (default 8080; 0 picks a free port)
 * @property {string | undefined} host `MOTIF_HOST`, an IP address; unset binds every interface
 * @property {'http' | 'cloudevent'} kind `MOTIF_FUNCTION_KIND` (default `http`)
 * @property {number} timeoutSeconds `MOTIF_TIMEOUT` (default 60): the handler's deadline
 * @property {number} concurrency `MOTIF_CONCURRENCY` (default 0 = unlimited)
 * @property {number} queue `MOTIF_QUEUE` (default 10 × concurrency, as Knative's queue-proxy)
 * @property {number} maxBody `MOTIF_MAX_BODY` in bytes (default 6 MiB)
 * @property {number} drainSeconds `MOTIF_DRAIN_SECONDS` (default 30)
 * @property {boolean} jsonLogs `MOTIF_LOG=json`
 * @property {string} name `MOTIF_FUNCTION_NAME`, else `K_SERVICE`, else `function`
 * @property {{service?: string, configuration?: string, revision?: string}} knative the `K_*` names
 */

/**
 * Reads the settings from `env`.
 * @param {Record<string, string | undefined>} env
 * @returns {Config}
 * @throws {ConfigError}
 */
function fromEnv(env) {
  /** @param {string} name @param {string} expected @param {number} fallback */
  const whole = (name, expected, fallback) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = raw.trim();
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw new ConfigError(name, raw, expected);
    }
    return Number(value);
  };
  const port = whole('PORT', 'a port number 0-65535', 8080);
  if (port > 65535) throw new ConfigError('PORT', env.PORT ?? '', 'a port number 0-65535');
  const host = env.MOTIF_HOST || undefined;
  if (host !== undefined && net.isIP(host) === 0) {
    throw new ConfigError('MOTIF_HOST', host, 'an IP address');
  }
  const kind = env.MOTIF_FUNCTION_KIND || 'http';
  if (kind !== 'http' && kind !== 'cloudevent') {
    throw new ConfigError('MOTIF_FUNCTION_KIND', kind, '`http` or `cloudevent`');
  }
  const timeoutSeconds = whole('MOTIF_TIMEOUT', 'a whole number of seconds above 0', 60);
  if (timeoutSeconds === 0) {
    throw new ConfigError('MOTIF_TIMEOUT', '0', 'a whole number of seconds above 0');
  }
  const concurrency = whole('MOTIF_CONCURRENCY', 'a whole number (0 = unlimited)', 0);
  const knative = {
    service: env.K_SERVICE,
    configuration: env.K_CONFIGURATION,
    revision: env.K_REVISION,
  };
  return {
    port,
    host,
    kind,
    timeoutSeconds,
    concurrency,
    queue: whole('MOTIF_QUEUE', 'a whole number', 10 * concurrency),
    maxBody: whole('MOTIF_MAX_BODY', 'a number of bytes', DEFAULT_MAX_BODY),
    drainSeconds: whole('MOTIF_DRAIN_SECONDS', 'a whole number of seconds', 30),
    jsonLogs: (env.MOTIF_LOG ?? '').toLowerCase() === 'json',
    name: env.MOTIF_FUNCTION_NAME ?? knative.service ?? 'function',
    knative,
  };
}

module.exports = { ConfigError, fromEnv };
