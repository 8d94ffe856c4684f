'use strict';
/** Writing a whole response at once. */

/**
 * Set on an HTTP/1 connection that is to close after its current response (the server
 * is draining): the response says `Connection: close`, so the client opens a new one
 * elsewhere rather than reuse it.
 */
const CLOSE_AFTER = Symbol('close after this response');

/**
 * Writes `status`, `headers` and `body` as the whole response, with its
 * `Content-Length` (which spares HTTP/1.1 the chunked encoding). `headers` is taken over.
 * @param {import('node:http').ServerResponse | import('node:http2').Http2ServerResponse} res
 * @param {number} status
 * @param {Record<string, string | string[]>} headers
 * @param {Uint8Array | string} [body]
 * @returns {number} the status
 */
function respond(res, status, headers, body) {
  if (res.socket?.[CLOSE_AFTER] === true) headers.connection = 'close';
  if (body !== undefined && status !== 204 && status !== 304) {
    headers['content-length'] = String(
      typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
    );
  }
  res.writeHead(status, headers);
  res.end(body);
  return status;
}

module.exports = { CLOSE_AFTER, respond };
