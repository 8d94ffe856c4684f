#!/usr/bin/env node
'use strict';
// The motif JavaScript invoker: `motif-node MODULE` serves the function MODULE
// exports under the motif function contract. See ../README.md.
require('../lib/main').main(process.argv.slice(2));
