// An http function in JavaScript: greets whoever the body names.
exports.handle = (request, context) => {
  const name = request.body.length ? request.text().trim() : 'world';
  context.log.info('greeting', { name });
  return `hello, ${name}! (${request.method} ${request.path})\n`;
};
