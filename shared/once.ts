/**
 * Runs an idempotent setup step (create a queue, a container) once per key per process, sharing
 * the pending promise; a failure is forgotten so the next call tries again.
 */
export class OncePerKey {
  private readonly pending = new Map<string, Promise<unknown>>();

  run(key: string, step: () => Promise<unknown>): Promise<unknown> {
    let running = this.pending.get(key);
    if (running === undefined) {
      running = step();
      this.pending.set(key, running);
      running.catch(() => this.pending.delete(key));
    }
    return running;
  }
}
