// The contract suite's cloudevent roles (tests/contract/roles.toml), chosen by the
// function's name, for the JavaScript invoker. An ES module; http-roles.js is CommonJS.

import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The reply of `role`: the given data as JSON, type `<request type>.reply`.
 * @param {import('cloudevents').CloudEvent} to
 * @param {string} role
 * @param {unknown} data
 */
const reply = (to, role, data) => ({
  id: `${to.id}-${role}`,
  source: `/motif/${role}`,
  type: `${to.type}.reply`,
  datacontenttype: 'application/json',
  data,
});

/**
 * @param {import('cloudevents').CloudEvent} event
 * @param {{functionName: string}} context
 */
export async function handle(event, context) {
  const role = context.functionName;
  switch (role) {
    case 'event-reply':
      return reply(event, role, event.data);
    case 'event-sink':
      return undefined;
    case 'event-echo':
      return event;
    case 'event-attributes': {
      const text = (/** @type {unknown} */ value) => (value === undefined ? '' : String(value));
      return reply(event, role, {
        id: event.id,
        source: event.source,
        type: event.type,
        subject: text(event.subject),
        time: text(event.time),
        myext: text(event.myext),
        datacontenttype: text(event.datacontenttype),
      });
    }
    case 'event-fail':
      throw new Error('boom');
    case 'event-sleep':
      await sleep(30_000);
      return undefined;
    default:
      throw Object.assign(new Error(`no role \`${role}\``), { status: 404 });
  }
}
