/**
 * The `queue flush` trigger for a running relay: `dane-relay queue flush`
 * creates `<spool>/flush`; the relay checks for it every `pollMs`, removes
 * it and makes every waiting message due now. (A file rather than a signal:
 * no pid to trust, and it works the same when the relay is stopped: the
 * trigger is honoured at the next start.)
 */
import { unlink } from 'node:fs/promises';
import type { Logger } from 'pino';

export class FlushWatcher {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly file: string,
    private readonly pollMs: number,
    private readonly onFlush: () => void,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stop();
    void this.check();
    this.timer = setInterval(() => void this.check(), this.pollMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await unlink(this.file);
      this.onFlush();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn({ err }, `cannot remove flush trigger ${this.file}`);
    } finally {
      this.busy = false;
    }
  }
}
