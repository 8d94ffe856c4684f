'use strict';
// validate: an order placed is valid when it has an email address and items, each with
// a positive quantity and price. A valid order is answered with
// `com.example.order.validated` carrying its total; an invalid one is refused with a 422,
// which the broker does not retry: it goes to the dead-letter sink.

const { CloudEvent } = require('cloudevents');

function problem(message) {
  return Object.assign(new Error(message), { status: 422 });
}

exports.handle = (event, context) => {
  const order = event.data;
  if (typeof order !== 'object' || order === null || Buffer.isBuffer(order)) {
    throw problem('an order is a JSON object');
  }
  if (typeof order.email !== 'string' || !order.email.includes('@')) {
    throw problem(`order ${order.id}: no email address to notify`);
  }
  if (!Array.isArray(order.items) || order.items.length === 0) {
    throw problem(`order ${order.id}: no items`);
  }
  let total = 0;
  for (const item of order.items) {
    if (!(item.qty > 0) || !(item.price > 0)) {
      throw problem(`order ${order.id}: ${item.sku} needs a positive qty and price`);
    }
    total += item.qty * item.price;
  }
  context.log.info('validated', { order: order.id, total });
  return new CloudEvent({
    id: `${event.id}.validated`,
    source: '/motif/validate',
    type: 'com.example.order.validated',
    subject: String(order.id),
    datacontenttype: 'application/json',
    data: { ...order, total },
  });
};
