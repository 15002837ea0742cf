#!/usr/bin/env node
// Runs the TypeScript sources directly: one artefact, no stale build to go out of sync.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
