'use strict';
/**
 * Logs: lines on stderr; with `MOTIF_LOG=json`, one JSON object a line (CONTRACT.md §1).
 * Every line names the function, and its revision when Knative set `K_REVISION`; lines
 * about a request carry its trace id.
 */

/** @typedef {Record<string, unknown>} Fields */

/**
 * Whether stderr is gone (its reader died: `EPIPE`). A write to it then fails with an
 * `error` event, which, unhandled, would come back as an uncaught exception whose own
 * log line fails the same way, for ever; so lines are dropped instead, and a SIGTERM
 * (the parent's death signal) still drains and stops the server.
 */
let stderrClosed = false;
process.stderr.on('error', () => {
  stderrClosed = true;
});

/** @param {string} line */
function toStderr(line) {
  if (!stderrClosed) process.stderr.write(line);
}

/** A logger bound to some fields (the function, a request's trace). */
class Logger {
  /**
   * @param {boolean} json one JSON object a line, else text
   * @param {Fields} fields written on every line
   * @param {(line: string) => void} [write] where lines go (default: stderr)
   */
  constructor(json, fields, write = toStderr) {
    this.json = json;
    this.fields = fields;
    this.write = write;
  }

  /**
   * A logger that also writes `fields` on every line.
   * @param {Fields} fields
   */
  child(fields) {
    return new Logger(this.json, { ...this.fields, ...fields }, this.write);
  }

  /** @param {string} message @param {Fields} [fields] */
  info(message, fields) {
    this.line('info', message, fields);
  }

  /** @param {string} message @param {Fields} [fields] */
  warn(message, fields) {
    this.line('warn', message, fields);
  }

  /** @param {string} message @param {Fields} [fields] */
  error(message, fields) {
    this.line('error', message, fields);
  }

  /**
   * @private
   * @param {'info' | 'warn' | 'error'} level
   * @param {unknown} message
   * @param {Fields | undefined} fields
   */
  line(level, message, fields) {
    const all = { ...this.fields, ...fields };
    const timestamp = new Date().toISOString();
    if (this.json) {
      this.write(
        `${JSON.stringify({ timestamp, level: level.toUpperCase(), message: String(message), ...all }, jsonSafe)}\n`,
      );
      return;
    }
    let text = `${timestamp} ${level.toUpperCase().padStart(5)} ${String(message)}`;
    for (const [key, value] of Object.entries(all)) {
      if (value !== undefined) text += ` ${key}=${textValue(value)}`;
    }
    this.write(`${text}\n`);
  }
}

/**
 * Errors become their stack (logs are for people; the client never sees it), bigints
 * their digits.
 * @param {string} _key
 * @param {unknown} value
 */
function jsonSafe(_key, value) {
  if (value instanceof Error) return value.stack ?? String(value);
  return typeof value === 'bigint' ? value.toString() : value;
}

/** @param {unknown} value */
function textValue(value) {
  const s =
    value instanceof Error
      ? (value.stack ?? String(value))
      : typeof value === 'string'
        ? value
        : JSON.stringify(value, jsonSafe);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

module.exports = { Logger };
