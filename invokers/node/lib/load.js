'use strict';
/**
 * Loading the user's function: a file, or a directory whose `package.json` names its
 * entry (`exports`, else `main`, else `index.js`). CommonJS and ES modules alike: with
 * `require()` where it can load the module (CommonJS; ES modules too from Node 20.19),
 * else with dynamic `import()` (an ES module on an older Node 20, or one with top-level
 * `await`). `require()` comes first for the cold start: the first `import()` sets up
 * Node's ES module loader, ~10 ms on the machine of BENCHMARKS.md.
 *
 * The handler is the named export `handle`, else the default export (`module.exports`)
 * when it is a function. `init` and `shutdown` are optional named exports. For CommonJS,
 * `module.exports = { handle, init }` counts as named exports.
 */

const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

/** The function could not be loaded; `hint` says what to do. */
class LoadError extends Error {
  /**
   * @param {string} message
   * @param {string} hint
   * @param {unknown} [cause]
   */
  constructor(message, hint, cause) {
    super(message, { cause });
    this.name = 'LoadError';
    this.hint = hint;
  }
}

/** The `exports` conditions an `import()` under Node matches. */
const CONDITIONS = new Set(['node', 'import', 'default']);

/**
 * The file a function specifier names.
 * @param {string} specifier a file or a directory, relative to `cwd`
 * @param {string} cwd
 * @returns {string}
 * @throws {LoadError}
 */
function resolveModule(specifier, cwd) {
  const target = path.resolve(cwd, specifier);
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (stat === undefined) {
    throw new LoadError(
      `cannot find the function module \`${specifier}\``,
      `give the path of a .js, .mjs or .cjs file, or of a directory with a package.json`,
    );
  }
  if (!stat.isDirectory()) return target;
  const entry = packageEntry(target);
  const candidates =
    entry === undefined
      ? ['index.js', 'index.mjs', 'index.cjs']
      : [entry, `${entry}.js`, path.join(entry, 'index.js')];
  for (const candidate of candidates) {
    const file = path.resolve(target, candidate);
    if (fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return file;
  }
  throw new LoadError(
    `the directory \`${specifier}\` has no entry file (tried ${candidates.join(', ')})`,
    'set `main` or `exports` in its package.json, or add an index.js',
  );
}

/**
 * The entry a directory's `package.json` names, if any.
 * @param {string} dir
 * @returns {string | undefined}
 */
function packageEntry(dir) {
  let text;
  try {
    text = fs.readFileSync(path.join(dir, 'package.json'), 'utf8');
  } catch {
    return undefined;
  }
  let pkg;
  try {
    pkg = JSON.parse(text);
  } catch (e) {
    throw new LoadError(
      `\`${path.join(dir, 'package.json')}\` is not valid JSON`,
      'fix its syntax',
      e,
    );
  }
  return exportsTarget(pkg.exports) ?? (typeof pkg.main === 'string' ? pkg.main : undefined);
}

/**
 * The file the `.` entry of `exports` maps to, for an `import()` under Node.
 * @param {unknown} exp
 * @returns {string | undefined}
 */
function exportsTarget(exp) {
  if (typeof exp === 'string') return exp;
  if (Array.isArray(exp)) return exp.map(exportsTarget).find((t) => t !== undefined);
  if (exp === null || typeof exp !== 'object') return undefined;
  const map = /** @type {Record<string, unknown>} */ (exp);
  if (Object.keys(map).some((key) => key.startsWith('.'))) return exportsTarget(map['.']);
  // The first matching condition in the object's own order wins, as in Node's resolver;
  // the invoker imports the file itself, so a `require`-only entry serves as well.
  for (const [condition, value] of Object.entries(map)) {
    const target = CONDITIONS.has(condition) ? exportsTarget(value) : undefined;
    if (target !== undefined) return target;
  }
  return exportsTarget(map.require);
}

/**
 * Imports the function and finds its handler and hooks.
 * @param {string} file from {@link resolveModule}
 * @returns {Promise<import('./dispatch').LoadedFunction>}
 * @throws {LoadError}
 */
async function loadFunction(file) {
  let ns;
  try {
    ns = await importModule(file);
  } catch (e) {
    throw new LoadError(
      `the function module \`${file}\` failed to load`,
      'fix the error above and start again',
      e,
    );
  }
  // `module.exports` (or a default export): its members count as named exports.
  const commonjs =
    ns.default !== null && ['object', 'function'].includes(typeof ns.default)
      ? ns.default
      : undefined;
  /** @param {string} name */
  const exported = (name) => {
    if (ns[name] !== undefined) return ns[name];
    const value = commonjs?.[name];
    return typeof value === 'function' ? value.bind(commonjs) : value;
  };
  const handle = exported('handle') ?? (typeof ns.default === 'function' ? ns.default : undefined);
  if (typeof handle !== 'function') {
    throw new LoadError(
      `\`${file}\` exports no handler`,
      'export a function named `handle` (or make the handler the default export / module.exports)',
    );
  }
  const fn = { handle, init: exported('init'), shutdown: exported('shutdown') };
  for (const hook of /** @type {const} */ (['init', 'shutdown'])) {
    if (fn[hook] !== undefined && typeof fn[hook] !== 'function') {
      throw new LoadError(
        `\`${file}\` exports \`${hook}\`, but not as a function`,
        `make \`${hook}\` a function, or remove it`,
      );
    }
  }
  return fn;
}

/** What `require()` cannot load, and `import()` can. */
const NEEDS_IMPORT = new Set(['ERR_REQUIRE_ESM', 'ERR_REQUIRE_ASYNC_MODULE']);

/**
 * The module namespace of `file`, as `import()` gives it: a CommonJS module's
 * `module.exports` is its `default`.
 * @param {string} file
 * @returns {Promise<Record<string, any>>}
 */
async function importModule(file) {
  let exported;
  try {
    exported = require(file);
  } catch (e) {
    if (!NEEDS_IMPORT.has(/** @type {{code?: string}} */ (e).code)) throw e;
    return import(pathToFileURL(file).href);
  }
  const isNamespace =
    exported !== null && typeof exported === 'object' && exported[Symbol.toStringTag] === 'Module';
  return isNamespace ? exported : { default: exported };
}

module.exports = { LoadError, loadFunction, resolveModule };
