/**
 * A scenario's follow-up: a check that runs after every scenario of a lab
 * run has its delivery outcome (e.g. sending and validating the day's
 * TLSRPT reports for the scenario's domain). Its problems join the
 * scenario's row, so the row fails when the follow-up does.
 *
 * Contract: a follow-up never hangs (every wait is bounded by `deadline`)
 * and never throws for what it observes: it reports problems.
 */
import type { LabRelay } from './lab-relay.ts';
import type { RunningServers } from './lab-servers.ts';
import type { StsServer } from './sts-server.ts';

export interface FollowUpContext {
  domain: string;
  /** The relay the scenario's message went through. */
  relay: LabRelay;
  servers: RunningServers;
  scenarioName: string;
  /** The lab's HTTPS server (MTA-STS policies, TLSRPT collector). */
  sts: StsServer;
  /** The relay's PKIX trust (the lab public CA), for https clients. */
  caPem: string;
  /** Epoch ms by which the follow-up must be done. */
  deadline: number;
}

export interface FollowUpResult { problems: string[]; observed: string }

export type FollowUp = (ctx: FollowUpContext) => Promise<FollowUpResult>;
