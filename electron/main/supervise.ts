/**
 * Keeps a child process (engine or batch utilityProcess) alive: when it exits it is forked again
 * after a growing delay, at most `maxRestarts` times in `windowMs`, so a crash loop cannot spin.
 * Free of Electron so it is tested with fake children.
 */

export interface ChildLike {
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

export interface SuperviseOptions<C extends ChildLike> {
  fork: () => C;
  /** A child is up (first start or restart); wire its port here. */
  onStart: (child: C, restarts: number) => void;
  /** A child exited; `restartInMs` is null when it will not be forked again (cap reached or stopped). */
  onExit: (code: number, restartInMs: number | null) => void;
  maxRestarts?: number;
  windowMs?: number;
  /** Delay before the n-th restart within the window (0-based); the last value repeats. */
  backoffMs?: readonly number[];
  now?: () => number;
  schedule?: (fn: () => void, ms: number) => void;
}

export interface Supervisor<C> {
  current(): C | null;
  /** Kills the running child (e.g. one that stopped answering); it is restarted like a crash. */
  kill(): void;
  /** No more restarts (app quitting). */
  stop(): void;
}

/** The delay before the next restart, or null when `maxRestarts` already happened within the window. */
export function nextRestartDelay(restartTimes: readonly number[], now: number, opts: { maxRestarts: number; windowMs: number; backoffMs: readonly number[] }): number | null {
  const recent = restartTimes.filter((t) => now - t < opts.windowMs).length;
  if (recent >= opts.maxRestarts) return null;
  return opts.backoffMs[Math.min(recent, opts.backoffMs.length - 1)] ?? 0;
}

export function supervise<C extends ChildLike>(o: SuperviseOptions<C>): Supervisor<C> {
  const policy = { maxRestarts: o.maxRestarts ?? 3, windowMs: o.windowMs ?? 60_000, backoffMs: o.backoffMs ?? [250, 1000, 4000] };
  const now = o.now ?? Date.now;
  const schedule = o.schedule ?? ((fn, ms) => void setTimeout(fn, ms));
  const restarts: number[] = []; // when each recent restart happened
  let total = 0;
  let child: C | null = null;
  let stopped = false;

  const start = (): void => {
    if (stopped) return;
    const c = o.fork();
    child = c;
    c.on('exit', (code) => {
      if (child !== c) return;
      child = null;
      const delay = stopped ? null : nextRestartDelay(restarts, now(), policy);
      o.onExit(code, delay);
      if (delay === null) return;
      while (restarts.length > 0 && now() - restarts[0]! >= policy.windowMs) restarts.shift();
      restarts.push(now() + delay);
      total++;
      schedule(start, delay);
    });
    o.onStart(c, total);
  };
  start();

  return {
    current: () => child,
    kill: () => void child?.kill(),
    stop: () => {
      stopped = true;
    },
  };
}
