// Test-only bootstrap: lets a worker thread run the TypeScript engine host through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../../electron/engine/worker-entry.ts');
