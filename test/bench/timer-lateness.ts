/**
 * How late an otherwise idle process's 1 ms timer fires, second by second,
 * beside the CPU the host stole in that second (VM steal, proc-stats.ts):
 * what any latency percentile measured on this machine at that time
 * includes before an MTA does anything.
 *
 *   node bin/run-ts.js test/bench/timer-lateness.ts [--seconds N]
 *
 * Prints one line per second: `<unix ms> <max lateness ms> <steal ms>`,
 * then ONE JSON line with the seconds' median and max lateness. Bounded by
 * N (default 10, at most 600) seconds; starts nothing else.
 */
import { parseArgs } from 'node:util';
import { machineStealSeconds } from './proc-stats.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' } } });
const seconds = Math.min(600, Math.max(1, Number(values.seconds) || 10));

let last = performance.now();
let worst = 0;
const tick = setInterval(() => {
  const now = performance.now();
  worst = Math.max(worst, now - last - 1);
  last = now;
}, 1);

const maxima: number[] = [];
let steal0 = machineStealSeconds();
const report = setInterval(() => {
  const steal = machineStealSeconds();
  process.stdout.write(`${Date.now()} ${worst.toFixed(2)} ${((steal - steal0) * 1000).toFixed(0)}\n`);
  maxima.push(worst);
  worst = 0;
  steal0 = steal;
  if (maxima.length >= seconds) {
    clearInterval(tick);
    clearInterval(report);
    const sorted = [...maxima].sort((a, b) => a - b);
    process.stdout.write(`${JSON.stringify({ seconds, medianMaxLatenessMs: sorted[Math.floor(sorted.length / 2)], maxLatenessMs: sorted[sorted.length - 1] })}\n`);
  }
}, 1000);
