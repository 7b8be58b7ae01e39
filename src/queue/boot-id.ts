/**
 * The running kernel's boot id: how the spool's torn-file check
 * (spool.ts, `setAsideTorn()`) tells whether the machine went down since
 * the check last ran. Only a power loss or a kernel crash can tear a queue
 * file, and either starts a new boot with a new random id (random(4)).
 *
 * Sources, the first valid one wins:
 * 1. /proc/sys/kernel/random/boot_id (Linux);
 * 2. `DANE_RELAY_BOOT_ID`, for where /proc/sys is hidden: the shipped
 *    systemd unit runs with `ProcSubset=pid` and sets it to `%b`, systemd's
 *    boot id specifier (the same id, without dashes).
 * A value is valid when, dashes dropped, it is 32 hex digits; anything else
 * (an unexpanded `%b`, an empty value) is ignored. With no valid source the
 * result is undefined, and every start checks the spool.
 * Never throws.
 */
import { readFile } from 'node:fs/promises';

const KERNEL_BOOT_ID = '/proc/sys/kernel/random/boot_id';

/** 32 lowercase hex digits, or undefined when `text` is not a boot id. */
export function normaliseBootId(text: string | undefined): string | undefined {
  const id = text?.trim().replaceAll('-', '').toLowerCase();
  return id !== undefined && /^[0-9a-f]{32}$/.test(id) ? id : undefined;
}

export async function currentBootId(env: NodeJS.ProcessEnv = process.env, kernelFile = KERNEL_BOOT_ID): Promise<string | undefined> {
  const kernel = normaliseBootId(await readFile(kernelFile, 'utf8').catch(() => undefined));
  return kernel ?? normaliseBootId(env.DANE_RELAY_BOOT_ID);
}
