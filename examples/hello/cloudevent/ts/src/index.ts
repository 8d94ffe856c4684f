// events-ts: a CloudEvent function. `handle` gets every event sent to the function and
// may answer with an event of its own; edit it.
//
// `motif build` compiles it with `tsc` into dist/, which `motif run` serves on port 8080
// (`$PORT`); `npm test` compiles it and runs src/index.test.ts.

import { CloudEvent } from 'cloudevents';

/** The word the function greets with. */
const GREETING = 'hello';

/** The `source` of the events this function sends. */
export const SOURCE = '/motif/events-ts';

/**
 * The `type` of the events this function sends. A reply carries a type of its own, so
 * that a trigger for the events this function takes does not send it its own replies.
 */
export const REPLY_TYPE = 'dev.motif.events-ts.reply';

/** The data of the events this function answers. */
export interface Greet {
  name?: string;
}

/** The data of its replies. */
export interface Greeting {
  message: string;
}

/**
 * Answers an event whose data is JSON such as `{"name": "motif"}` with an event whose
 * data is `{"message": "hello, motif!"}`; an event without data gets no answer.
 *
 * `event` is a `CloudEvent` of the cloudevents SDK, already decoded and validated by the
 * invoker (binary, structured or batch mode). Its `data` is parsed when it is JSON, a
 * string when it is text, else a Buffer. The reply goes back in the mode the event came
 * in; `undefined` is a 204.
 *
 * A thrown error is a problem+json answer: a 500 (the function failed; a broker retries
 * the event), or the error's `status` when it has one, such as 422 for an event the
 * function cannot process (a broker does not retry a 4xx). Handlers may be async.
 */
export function handle(
  event: CloudEvent<unknown>,
  context: Context,
): CloudEvent<Greeting> | undefined {
  if (event.data === undefined) {
    return undefined;
  }
  if (!isGreet(event.data)) {
    throw Object.assign(new Error('send JSON data such as {"name": "motif"}'), { status: 422 });
  }
  const name = event.data.name ?? 'world';
  context.log.info('greeting', { name, event: event.id });
  return new CloudEvent<Greeting>({
    // The reply's id only needs to be unique for its source: derive it from the event's,
    // so a redelivered event gets the same reply.
    id: `${event.id}.reply`,
    source: SOURCE,
    type: REPLY_TYPE,
    datacontenttype: 'application/json',
    data: { message: `${GREETING}, ${name}!` },
  });
}

/** Whether the data is a JSON object whose `name`, if any, is a string. */
function isGreet(data: unknown): data is Greet {
  if (typeof data !== 'object' || data === null || Buffer.isBuffer(data)) {
    return false;
  }
  const name = (data as Record<string, unknown>).name;
  return name === undefined || typeof name === 'string';
}

/** What the handler may know about its call (the motif Node invoker's context). */
export interface Context {
  /** `MOTIF_FUNCTION_NAME`, else Knative's `K_SERVICE`. */
  readonly functionName: string;
  /** Knative's names, when the function runs on Knative. */
  readonly service?: string;
  readonly revision?: string;
  readonly configuration?: string;
  /** The handler's own span: send it on outgoing calls and events. */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** When the invoker gives up on the call, in ms since the epoch. */
  readonly deadline: number;
  /** Lines on stderr carrying the event's trace id. */
  readonly log: Logger;
}

/** The context's logger. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
