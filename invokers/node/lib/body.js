'use strict';
/**
 * Reading a request body whole, under `MOTIF_MAX_BODY` (CONTRACT.md §5).
 *
 * A body over the limit is read on and thrown away ("lingering", as nginx's
 * `lingering_close` and the Rust runtime do) before the 413 is sent: a server that
 * answered and closed while the client was still sending would reset the connection, and
 * most clients would then report a broken pipe instead of the 413.
 */

const { badRequest, payloadTooLarge } = require('./problem');

/** How much of an oversized body is read and thrown away at most, and for how long. */
const LINGER_BYTES = 64 * 1024 * 1024;
const LINGER_MS = 2000;

const EMPTY = Buffer.alloc(0);

/**
 * The whole body of `req`, or a rejection with the problem to answer (413 over `max`,
 * 400 when the client went away mid-body). An HTTP/1 request that declares no body gets
 * the empty buffer at once.
 * @param {import('node:http').IncomingMessage | import('node:http2').Http2ServerRequest} req
 * @param {number} max
 * @returns {Buffer | Promise<Buffer>}
 */
function readBody(req, max) {
  const headers = req.headers;
  const declared = headers['content-length'];
  if (
    req.httpVersionMajor === 1 &&
    (declared === '0' || (declared === undefined && headers['transfer-encoding'] === undefined))
  ) {
    return EMPTY;
  }
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let total = 0;
    let over = declared !== undefined && Number(declared) > max;
    let discarded = 0;
    /** @type {NodeJS.Timeout | undefined} */
    let linger;
    const finish = () => {
      clearTimeout(linger);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
    };
    const tooLarge = () => {
      finish();
      req.pause();
      reject(payloadTooLarge(max));
    };
    const startLingering = () => {
      over = true;
      chunks.length = 0;
      linger = setTimeout(tooLarge, LINGER_MS);
    };
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      if (over) {
        discarded += chunk.length;
        if (discarded > LINGER_BYTES) tooLarge();
        return;
      }
      total += chunk.length;
      if (total > max) {
        startLingering();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (over) {
        tooLarge();
        return;
      }
      finish();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total));
    };
    const onClose = () => {
      finish();
      reject(badRequest('the client closed the connection before the request body ended'));
    };
    if (over) startLingering();
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}

module.exports = { readBody };
