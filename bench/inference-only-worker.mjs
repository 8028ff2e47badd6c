// Starts bench/inference-only.ts in a worker thread through tsx (a worker does not inherit its parent's loader).
import { register } from 'tsx/esm/api';

register();
await import('./inference-only.ts');
