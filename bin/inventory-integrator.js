#!/usr/bin/env node
// Installed command: runs the compiled CLI (npm run build). In a checkout, `npm run cli -- …` runs the sources.
await import('../dist/src/runtime/main.js');
