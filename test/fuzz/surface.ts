/**
 * One attack surface of the fault suite (issue 19): the inbound SMTP listener, the resolver the relay asks,
 * or the MX servers it delivers to. `run` tries `iterations` hostile inputs generated from `seed` (replayable)
 * against a real relay component on loopback and returns what it saw. A surface never throws for a finding:
 * findings are counted and described in `failures` (each with the seed/input needed to replay it).
 */
export interface FuzzTally {
  surface: string;
  /** hostile inputs tried */
  inputs: number;
  /** the component under test died or an error escaped (unhandledRejection / uncaughtException / child exit) */
  crashes: number;
  /** a session or delivery was not finished within its bound */
  hangs: number;
  /** a message went to a host, or over a channel, the policy forbids (plaintext, impostor, downgrade) */
  wrongDeliveries: number;
  /** a message answered 250 that is neither delivered nor still queued */
  lost: number;
  failures: string[];
}
export interface FuzzSurface {
  name: 'inbound' | 'resolver' | 'mx';
  run(opts: { iterations: number; seed: number; log: (line: string) => void }): Promise<FuzzTally>;
}
