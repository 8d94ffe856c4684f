// The contract suite's http roles (tests/contract/roles.toml), chosen by the function's
// name, for the JavaScript invoker. A CommonJS module; event-roles.mjs is an ES module.
'use strict';

const { setTimeout: sleep } = require('node:timers/promises');

/** @param {string} mediaType @param {string | Buffer} body */
const typed = (mediaType, body) => ({ headers: { 'content-type': mediaType }, body });

/**
 * @param {import('../../../../invokers/node/lib/http/request').FunctionRequest} request
 * @param {import('../../../../invokers/node/lib/context').Context} context
 */
async function handle(request, context) {
  switch (context.functionName) {
    case 'echo':
    case 'slow-init':
    case 'failing-init':
    case 'shutdown-hook':
      return typed('text/plain', request.body);
    case 'request-info': {
      /** @param {string} name */
      const values = (name) => [request.headers[name] ?? []].flat().join(', ');
      return {
        method: request.method,
        path: request.path,
        query: request.query,
        content_type: values('content-type'),
        test_header: values('x-motif-test'),
        hop: values('x-hop'),
        k_service: context.service ?? '',
        k_revision: context.revision ?? '',
        k_configuration: context.configuration ?? '',
        traceparent: context.traceparent,
      };
    }
    case 'fail':
      throw new Error('boom');
    case 'sleep':
      await sleep(30_000);
      return typed('text/plain', 'slept');
    case 'slow':
      await sleep(1_000);
      return typed('text/plain', 'done');
    default:
      throw Object.assign(new Error(`no role \`${context.functionName}\``), { status: 404 });
  }
}

/** @param {import('../../../../invokers/node/lib/context').Context} context */
async function init(context) {
  if (context.functionName === 'slow-init') await sleep(1_000);
  if (context.functionName === 'failing-init') throw new Error('init failed on purpose');
}

/** @param {import('../../../../invokers/node/lib/context').Context} context */
function shutdown(context) {
  if (context.functionName === 'shutdown-hook') console.log('shutdown hook ran');
}

module.exports = { handle, init, shutdown };
