// hello-ts: an HTTP function. `handle` answers every request the function gets (every
// path below `/` except `/_/`, which belongs to the invoker); edit it.
//
// `motif build` compiles it with `tsc` into dist/, which `motif run` serves on port 8080
// (`$PORT`); `npm test` compiles it and runs src/index.test.ts.

/** The word the function greets with. */
const GREETING = 'hello';

/**
 * Greets the name sent as the request body: `curl -d motif localhost:8080` answers
 * `hello, motif!`; without a body it greets the world.
 *
 * Return the body alone (a string is text/plain, an object is JSON, `undefined` is a
 * 204) or a {@link Response}. A thrown error is a 500 problem+json whose detail is its
 * message; give it a `status` (400-599) to answer with that instead:
 *   throw Object.assign(new Error('no such order'), { status: 404 });
 * Handlers may be async.
 */
export function handle(request: Request, context: Context): string | Response {
  const name = request.text().trim() || 'world';
  context.log.info('greeting', { name });
  return `${GREETING}, ${name}!\n`;
}

// What the motif Node invoker passes to the handler, and what it takes back.

/** The request: a plain object with the whole body read. */
export interface Request {
  /** `GET`, `POST`, ... */
  readonly method: string;
  /** The path, without the query. */
  readonly path: string;
  /** The raw query string, without `?` (`''` when none). */
  readonly query: string;
  /** Lower-case names; an array when the header was repeated. */
  readonly headers: Readonly<Record<string, string | string[]>>;
  /** The whole body (empty when none). */
  readonly body: Buffer;
  /** The body as UTF-8. */
  text(): string;
  /** The body parsed as JSON; a 400 answer when it is not JSON. */
  json(): unknown;
}

/** A response with a status or headers; any member may be left out. */
export interface Response {
  status?: number;
  headers?: Record<string, string | string[]>;
  /** A string, a Buffer, or anything else as JSON; none is a 204. */
  body?: unknown;
}

/** What the handler may know about its call. */
export interface Context {
  /** `MOTIF_FUNCTION_NAME`, else Knative's `K_SERVICE`. */
  readonly functionName: string;
  /** Knative's names, when the function runs on Knative. */
  readonly service?: string;
  readonly revision?: string;
  readonly configuration?: string;
  /** The handler's own span: send it on outgoing calls. */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** When the invoker gives up on the call, in ms since the epoch. */
  readonly deadline: number;
  /** Lines on stderr carrying the request's trace id. */
  readonly log: Logger;
}

/** The context's logger. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
