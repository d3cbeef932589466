#!/usr/bin/env node
// The `tic` command; the TypeScript sources are compiled to build/ by `npm ci` (prepare).
import '../build/cli/tic.js';
