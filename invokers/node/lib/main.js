'use strict';
/**
 * The invoker's life as a process: read the settings, listen, load the function, run
 * its init hook (10 s cap), turn ready, serve; on SIGTERM (or SIGINT) drain, run the
 * shutdown hook (10 s cap) and exit 0.
 *
 * Exit codes: 0 after a drain; 1 when the server cannot listen or the function cannot
 * be loaded or initialised; 2 for a usage or configuration error. Fatal errors are
 * reported as `error:`, `Caused by:` and `hint:` lines (one JSON line with
 * `MOTIF_LOG=json`).
 */

const { ConfigError, fromEnv } = require('./config');
const { Context } = require('./context');
const { LoadError, loadFunction, resolveModule } = require('./load');
const { Logger } = require('./log');
const { FunctionServer } = require('./server');

/** How long an init or shutdown hook may run (CONTRACT.md §6). */
const HOOK_TIMEOUT_MS = 10_000;

const USAGE = 'usage: motif-node MODULE';
const USAGE_HINT =
  'MODULE is the function: a .js, .mjs or .cjs file, or a directory with a package.json';

/** A failure that ends the process, with its exit code and what to do about it. */
class Fatal extends Error {
  /**
   * @param {string} message
   * @param {number} code
   * @param {string | undefined} hint
   * @param {unknown} [cause]
   */
  constructor(message, code, hint, cause) {
    super(message, { cause });
    this.code = code;
    this.hint = hint;
  }
}

/**
 * Runs the invoker with `argv` (the arguments after the script) and the process
 * environment. Returns once the function is ready; the process then lives until a
 * signal ends it.
 * @param {string[]} argv
 */
async function main(argv) {
  let logger = new Logger(false, {});
  try {
    const config = readConfig();
    logger = new Logger(config.jsonLogs, {
      function: config.name,
      k_revision: config.knative.revision,
    });
    if (argv.length !== 1 || argv[0].startsWith('-')) throw new Fatal(USAGE, 2, USAGE_HINT);
    let file;
    try {
      file = resolveModule(argv[0], process.cwd());
    } catch (e) {
      throw fatalLoad(e, 2);
    }
    await start(config, logger, file);
  } catch (e) {
    if (!(e instanceof Fatal)) throw e;
    report(logger, e);
    process.exit(e.code);
  }
}

/** @returns {import('./config').Config} */
function readConfig() {
  try {
    return fromEnv(process.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new Fatal(
      e.message,
      2,
      `set ${e.variable} to a valid value, or unset it for the default`,
    );
  }
}

/**
 * A {@link LoadError} as a fatal error with `code`; anything else is rethrown.
 * @param {unknown} e
 * @param {number} code
 */
function fatalLoad(e, code) {
  if (!(e instanceof LoadError)) throw e;
  return new Fatal(e.message, code, e.hint, e.cause);
}

/**
 * @param {import('./config').Config} config
 * @param {Logger} logger
 * @param {string} file the function's module
 */
async function start(config, logger, file) {
  const server = new FunctionServer(config, logger);
  /** @type {import('./dispatch').LoadedFunction | undefined} */
  let fn;
  let initialised = false;
  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(1); // a second signal: stop at once
    stopping = true;
    await server.drain();
    if (initialised && fn?.shutdown !== undefined) {
      const failure = await runHook(fn.shutdown, server, logger);
      if (failure !== undefined) logger.warn(`shutdown hook failed: ${failure}`);
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // An error thrown outside any handler's promise belongs to no request: it is logged
  // and the server serves on, as the contract wants a failure to fail alone.
  process.on('unhandledRejection', (error) => {
    logger.error('a rejected promise was not handled; serving on', { error });
  });
  process.on('uncaughtException', (error) => {
    logger.error('an exception was not caught; serving on', { error });
  });

  let address;
  try {
    address = await server.listen();
  } catch (e) {
    const where = `${config.host ?? '*'}:${config.port}`;
    throw new Fatal(
      `cannot listen on ${where}`,
      1,
      'choose another PORT, or stop what listens there',
      e,
    );
  }
  logger.info('listening', {
    addr: `${address.address}:${address.port}`,
    kind: config.kind,
    k_service: config.knative.service,
    k_configuration: config.knative.configuration,
  });
  try {
    fn = await loadFunction(file);
  } catch (e) {
    throw fatalLoad(e, 1);
  }
  // The SDK, for cloudevent functions only: http functions do not pay its load time.
  const bridge =
    config.kind === 'cloudevent' ? new (require('./events/sdk').EventBridge)(file) : undefined;
  if (fn.init !== undefined) {
    const failure = await runHook(fn.init, server, logger);
    if (failure !== undefined) {
      throw new Fatal(`init hook failed: ${failure}`, 1, 'fix the init hook and start again');
    }
  }
  initialised = true;
  server.ready(fn, bridge);
  logger.info('ready', { cold_start_seconds: server.metrics.coldStartMicros / 1e6 });
}

/**
 * Runs a lifecycle hook under its 10 s cap.
 * @param {(context: Context) => unknown} hook
 * @param {FunctionServer} server
 * @param {Logger} logger
 * @returns {Promise<string | undefined>} why it failed, or undefined when it succeeded
 */
async function runHook(hook, server, logger) {
  const context = new Context(server.info, undefined, Date.now() + HOOK_TIMEOUT_MS, logger);
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(
      resolve,
      HOOK_TIMEOUT_MS,
      `it did not finish within ${HOOK_TIMEOUT_MS / 1000}s`,
    );
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(() => hook(context))
        .then(() => undefined),
      timedOut,
    ]);
  } catch (e) {
    const message = /** @type {{message?: unknown}} */ (e)?.message;
    return typeof message === 'string' ? message : String(e);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Writes a fatal error as `error:`, `Caused by:` and `hint:` lines.
 * @param {Logger} logger
 * @param {Fatal} fatal
 */
function report(logger, fatal) {
  const causes = [];
  for (let cause = fatal.cause; cause !== undefined; cause = /** @type {Error} */ (cause).cause) {
    causes.push(cause instanceof Error ? (cause.stack ?? cause.message) : String(cause));
    if (!(cause instanceof Error)) break;
  }
  if (logger.json) {
    logger.error(fatal.message, {
      caused_by: causes.length > 0 ? causes : undefined,
      hint: fatal.hint,
    });
    return;
  }
  let text = `error: ${fatal.message}\n`;
  if (causes.length > 0) {
    text += `\nCaused by:\n${causes.map((c) => `    ${c.replaceAll('\n', '\n    ')}`).join('\n')}\n`;
  }
  if (fatal.hint !== undefined) text += `\nhint: ${fatal.hint}\n`;
  process.stderr.write(text);
}

module.exports = { main };
