#!/usr/bin/env node
// Entry point of the `dane-relay` command: registers the TypeScript loader
// (tsx) and hands over to src/cli/main.ts. No logic lives here.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
