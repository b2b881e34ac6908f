/**
 * The governance part of the store port: teams, budgets in USD with reservations, per-minute rate
 * counters and usage queries over the ledger. Both backends implement it on their own database
 * (`sqlite/sqlite-governance.ts`, `postgres/postgres-governance.ts`) and pass one contract suite
 * (`governance-contract.ts`). The rules that decide who may do what live in `governance/`.
 */
import type { VirtualKeyRecord } from './store.js';

/** Rank order: admin > team_admin > user (see governance/authorization.ts). */
export type KeyRole = 'admin' | 'team_admin' | 'user';
export const KEY_ROLES: readonly KeyRole[] = ['admin', 'team_admin', 'user'];

/** `private`: requests are only ever sent to owned models. */
export type DataClass = 'private';

/** Budgets (USD) and limits of a key or a team; null where none is set. */
export interface Limits {
  readonly budgetDailyUsd: number | null;
  readonly budgetMonthlyUsd: number | null;
  readonly budgetTotalUsd: number | null;
  /** Requests per minute (fixed UTC minute windows). */
  readonly rpm: number | null;
  /** Tokens per minute, prompt and completion. */
  readonly tpm: number | null;
  /** Requests in flight at once, per gateway process. */
  readonly maxConcurrent: number | null;
}

export const LIMIT_FIELDS = [
  'budgetDailyUsd',
  'budgetMonthlyUsd',
  'budgetTotalUsd',
  'rpm',
  'tpm',
  'maxConcurrent',
] as const satisfies readonly (keyof Limits)[];

export const NO_LIMITS: Limits = {
  budgetDailyUsd: null,
  budgetMonthlyUsd: null,
  budgetTotalUsd: null,
  rpm: null,
  tpm: null,
  maxConcurrent: null,
};

export function hasAnyLimit(limits: Limits): boolean {
  return LIMIT_FIELDS.some((field) => limits[field] !== null);
}

export interface TeamRecord {
  /** `team_` plus hex: lowercase, so it survives the router's path normalisation. */
  readonly id: string;
  readonly name: string;
  readonly createdAtMs: number;
  readonly limits: Limits;
  readonly dataClass: DataClass | null;
}

/** A partial update: absent fields are kept; `null` clears a limit or the data class. */
export interface TeamPatch {
  readonly name?: string;
  readonly limits?: Partial<Limits>;
  readonly dataClass?: DataClass | null;
}

/** A partial update of a key; what a caller may send is decided by governance/authorization.ts. */
export interface KeyPatch {
  readonly name?: string;
  readonly expiresAtMs?: number | null;
  readonly allowedModels?: readonly string[] | null;
  readonly metadata?: Readonly<Record<string, string>> | null;
  readonly limits?: Partial<Limits>;
  readonly dataClass?: DataClass | null;
  readonly role?: KeyRole;
  readonly teamId?: string | null;
}

export type ScopeKind = 'key' | 'team';

/** `day` starts at 00:00 UTC, `month` on the 1st at 00:00 UTC; `total` never resets. */
export type BudgetWindow = 'day' | 'month' | 'total';
export const BUDGET_WINDOWS: readonly BudgetWindow[] = ['day', 'month', 'total'];

export interface BudgetScope {
  readonly scopeKind: ScopeKind;
  readonly scopeId: string;
}

export interface BudgetCheck extends BudgetScope {
  readonly window: BudgetWindow;
  readonly limitUsd: number;
}

export interface ReserveRequest {
  /**
   * The reservation holds one row per scope. Reserving again under a live reservation's id adds
   * `amountUsd` to it (checking room for the addition) and moves its expiry: how a gateway grows
   * its lease of a budget (governance/budget-lease.ts).
   */
  readonly reservationId: string;
  /** Every budget that must have room for `amountUsd`. */
  readonly checks: readonly BudgetCheck[];
  /** The scopes the amount is reserved against (every scope a check names, at least). */
  readonly scopes: readonly BudgetScope[];
  /** The request's worst-case cost. */
  readonly amountUsd: number;
  readonly nowMs: number;
  /** After this the reservation stops counting by itself (a crashed gateway never settles). */
  readonly expiresAtMs: number;
}

export type ReserveResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly scopeKind: ScopeKind;
      readonly scopeId: string;
      readonly window: BudgetWindow;
      readonly limitUsd: number;
      /** Settled spend in the current window. */
      readonly spentUsd: number;
      /** Unexpired reservations of requests in flight. */
      readonly reservedUsd: number;
      /** When the window restarts; null for `total`. */
      readonly resetsAtMs: number | null;
    };

export interface SettleRequest {
  readonly reservationId: string;
  /** Spend is added to the day, month and total windows of each scope (those of `nowMs`). */
  readonly scopes: readonly BudgetScope[];
  readonly actualUsd: number;
  readonly nowMs: number;
  /**
   * Keep the reservation at this amount, with this expiry, instead of dropping it (a lease that
   * still covers requests in flight). Absent or 0: the reservation is dropped.
   */
  readonly keep?: { readonly amountUsd: number; readonly expiresAtMs: number } | undefined;
}

export interface SpendRow extends BudgetScope {
  readonly window: BudgetWindow;
  readonly windowStartMs: number;
  readonly spentUsd: number;
}

export interface RateCheck extends BudgetScope {
  readonly rpm: number | null;
  readonly tpm: number | null;
}

export interface RateRequest {
  readonly checks: readonly RateCheck[];
  /** Requests to count at once (a gateway's lease of the minute); 1 when absent. */
  readonly requests?: number | undefined;
  /** Their prompt tokens (estimated); completion tokens are added after, with addTokens. */
  readonly tokens: number;
  readonly nowMs: number;
}

export type RateResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly scopeKind: ScopeKind;
      readonly scopeId: string;
      readonly limit: 'rpm' | 'tpm';
      readonly limitValue: number;
      /** Requests or tokens already counted in this minute. */
      readonly used: number;
      readonly resetsAtMs: number;
    };

export type UsageGroup = 'key' | 'team' | 'model' | 'task' | 'day';
export const USAGE_GROUPS: readonly UsageGroup[] = ['key', 'team', 'model', 'task', 'day'];

export interface UsageQuery {
  readonly groupBy: UsageGroup;
  /** Attempts that started at or after this (epoch ms). */
  readonly fromMs?: number | undefined;
  /** Attempts that started before this. */
  readonly toMs?: number | undefined;
  /** Only keys of this team. */
  readonly teamId?: string | undefined;
  readonly keyId?: string | undefined;
}

export interface UsageRow {
  /** The key id, team id, model name, `metadata.task` or UTC day (YYYY-MM-DD); null: none. */
  readonly group: string | null;
  /** Distinct client requests. */
  readonly requests: number;
  /** Upstream attempts (ledger entries). */
  readonly attempts: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
}

export interface GovernanceStore {
  getKey(id: string): Promise<VirtualKeyRecord | null>;
  /** Keys in creation order, all or one team's. */
  listKeys(options?: { readonly teamId?: string | undefined }): Promise<readonly VirtualKeyRecord[]>;
  /** The key after the update, or null when there is none with this id. */
  updateKey(id: string, patch: KeyPatch): Promise<VirtualKeyRecord | null>;

  /** Refuses a duplicate id or name with an Error whose message says which. */
  createTeam(team: TeamRecord): Promise<void>;
  getTeam(id: string): Promise<TeamRecord | null>;
  listTeams(): Promise<readonly TeamRecord[]>;
  /** The team after the update, or null when there is none with this id. */
  updateTeam(id: string, patch: TeamPatch): Promise<TeamRecord | null>;

  /**
   * Atomically, across processes: refuses when settled spend + unexpired reservations + amount
   * would pass any check's limit, else records the reservation against every scope.
   */
  reserveBudget(request: ReserveRequest): Promise<ReserveResult>;
  /** Adds the actual cost to every window of every scope and drops (or shrinks) the reservation, atomically. */
  settleBudget(request: SettleRequest): Promise<void>;
  /** Drops the reservation (the request failed before costing anything). */
  releaseBudget(reservationId: string): Promise<void>;
  /**
   * Drops every reservation whose id starts with `idPrefix` (the leases a crashed run of this
   * instance left behind); returns the rows dropped (a reservation has one per scope).
   */
  releaseReservations(idPrefix: string): Promise<number>;
  /** Settled spend of a scope in the windows of `nowMs`. */
  budgetSpend(scope: BudgetScope, nowMs: number): Promise<readonly SpendRow[]>;

  /** Counts the requests and their prompt tokens in the current minute, or refuses without counting. */
  takeRateLimit(request: RateRequest): Promise<RateResult>;
  /** Adds tokens learned after the response (completion, or a correction of the estimate). */
  addTokens(scopes: readonly BudgetScope[], tokens: number, nowMs: number): Promise<void>;

  /** The ledger aggregated by key, team, model, task or UTC day, most expensive first. */
  usage(query: UsageQuery): Promise<readonly UsageRow[]>;
}
