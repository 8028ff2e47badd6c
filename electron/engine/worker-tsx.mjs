// Starts the engine's worker thread (worker-entry.ts) from the TypeScript sources through tsx: the
// `medus` command as bin/medus.js runs it, the bench and the tests. A worker thread does not inherit
// the loader its parent registered, so it registers its own. Builds start their bundled entry instead.
import { register } from 'tsx/esm/api';

register();
await import('./worker-entry.ts');
