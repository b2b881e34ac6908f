/**
 * POST /v1/chat/completions: route, fail over, meter, record, respond (DESIGN.md, "one request").
 * Each attempt gets one ledger entry. The last one is committed before the response's final byte
 * (the JSON body, or the SSE `[DONE]`), so a response the client saw complete is never missing
 * from the ledger, whatever happens to the process afterwards.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/keys.js';
import type { ModelConfig } from '../config/config.js';
import type { Admission } from '../governance/budget-guard.js';
import { isGoverned } from '../governance/plan.js';
import { costUsd } from '../metering/cost.js';
import { estimateCompletionTokens, estimatePromptTokens } from '../metering/estimate-tokens.js';
import { Cancellation, type CancelSignal } from '../providers/cancellation.js';
import type { ChatCompletionChunk, ChatRequest } from '../providers/chat-schemas.js';
import { requestedStreamUsage } from '../providers/chat-schemas.js';
import type { CallContext, NormalizedUsage, StreamPart } from '../providers/provider.js';
import { UpstreamError } from '../providers/upstream-error.js';
import { type FailedAttempt, failoverChain, runWithFailover, type Upstream } from '../routing/failover.js';
import type { LedgerEntryInput } from '../store/store.js';
import { GatewayError } from './gateway-error.js';
import type { GatewayRuntime } from './gateway-runtime.js';
import { responseBody, scrub } from './scrub-secrets.js';

export interface ChatCall {
  readonly request: ChatRequest;
  readonly principal: Principal;
  readonly requestId: string;
  readonly receivedAtMs: number;
  readonly incoming: IncomingMessage;
  readonly response: ServerResponse;
  /**
   * Hears each attempt's cost and tokens (the budget guard settles with their sum). Set on governed
   * requests, after admission; present (undefined) on every call, so that calls keep one shape.
   */
  meter: Admission['meter'] | undefined;
}

/** Everything the ledger needs about one attempt besides who and what. */
interface AttemptRecord {
  readonly upstream: Upstream;
  readonly attempt: number;
  readonly startedAtMs: number;
  readonly usage: NormalizedUsage | null;
  readonly outputText: string;
  readonly ttftMs: number | null;
  readonly status: LedgerEntryInput['status'];
  readonly error: UpstreamError | null;
  readonly streamed: boolean;
}

export async function chatCompletions(runtime: GatewayRuntime, call: ChatCall): Promise<void> {
  const { request, principal } = call;
  const start = runtime.upstreams.get(request.model);
  if (!start) {
    throw new GatewayError(
      'model_not_found',
      `The model \`${request.model}\` does not exist here: use one of ${[...runtime.upstreams.keys()].join(', ')} (GET /v1/models lists them).`,
      { param: 'model' },
    );
  }
  if (principal.allowedModels && !principal.allowedModels.includes(request.model)) {
    throw new GatewayError('model_not_allowed', `This key may not use \`${request.model}\`.`, {
      param: 'model',
    });
  }
  if (isPrivate(call) && !start.config.owned) {
    const owned = [...runtime.upstreams.values()]
      .filter((upstream) => upstream.config.owned)
      .map((upstream) => upstream.config.name);
    throw new GatewayError(
      'data_class_violation',
      `This request is tagged data_class: private, which only owned models may serve; \`${request.model}\` is rented. ${owned.length > 0 ? `Owned models: ${owned.join(', ')}.` : 'No owned model is configured.'}`,
      { param: 'model' },
    );
  }
  // Keys without budgets or limits (and the master key) take no extra step here.
  if (!isGoverned(principal)) return dispatch(runtime, call, start);
  const chain = failoverChain(start, runtime.upstreams, isPrivate(call)).map((upstream) => upstream.config);
  const admitted = runtime.governance.admit({ principal, request, chain });
  return admitted instanceof Promise
    ? admitted.then((admission) => dispatchAdmitted(runtime, call, start, admission))
    : dispatchAdmitted(runtime, call, start, admitted);
}

function dispatchAdmitted(
  runtime: GatewayRuntime,
  call: ChatCall,
  start: Upstream,
  admission: Admission,
): Promise<void> {
  call.meter = admission.meter;
  return dispatch(runtime, call, start).finally(admission.finish);
}

function dispatch(runtime: GatewayRuntime, call: ChatCall, start: Upstream): Promise<void> {
  return call.request.stream === true ? stream(runtime, call, start) : complete(runtime, call, start);
}

/** When the whole request must be over: `server.request_timeout_ms` after it arrived. */
function deadlineOf(runtime: GatewayRuntime, call: ChatCall): number {
  return call.receivedAtMs + runtime.config.server.requestTimeoutMs;
}

/** The attempt's context: the model's timeouts, cut short when the request's deadline is nearer. */
function contextFor(
  runtime: GatewayRuntime,
  upstream: Upstream,
  call: ChatCall,
  signal: CancelSignal,
): CallContext {
  const timeouts = upstream.config.timeouts;
  const left = Math.max(1, deadlineOf(runtime, call) - runtime.now());
  return {
    signal,
    timeouts:
      left >= timeouts.firstByteMs
        ? timeouts
        : { ...timeouts, firstByteMs: left, connectMs: Math.min(timeouts.connectMs, left) },
    requestId: call.requestId,
  };
}

async function complete(runtime: GatewayRuntime, call: ChatCall, start: Upstream): Promise<void> {
  // A client that goes away cancels a non-streaming request: nobody will read the answer.
  const abort = new Cancellation();
  // Not removed: 'close' comes once, at the end of every response, and then finds it finished.
  call.response.on('close', () => {
    if (!call.response.writableFinished) abort.abort();
  });
  const done = await runWithFailover(
    start,
    (upstream) => upstream.provider.doChat(call.request, contextFor(runtime, upstream, call, abort)),
    failoverOptions(runtime, call, abort),
  );
  const entry = entryFor(runtime, call, {
    upstream: done.upstream,
    attempt: done.attempt,
    startedAtMs: done.startedAtMs,
    usage: done.value.usage,
    outputText: '',
    ttftMs: null,
    status: 'ok',
    error: null,
    streamed: false,
  });
  const body = responseBody(runtime, done.value);
  await runtime.ledger.write(entry);
  call.response.writeHead(200, {
    'content-type': 'application/json',
    'content-length': body.length,
    'x-autocap-model': done.upstream.config.name,
    'x-autocap-cost-usd': entry.costUsd.toFixed(8),
  });
  call.response.end(body);
}

async function stream(runtime: GatewayRuntime, call: ChatCall, start: Upstream): Promise<void> {
  // Streams are not cancelled when the client leaves: the gateway reads on to meter the tokens.
  const abort = new Cancellation();
  const done = await runWithFailover(
    start,
    async (upstream) => {
      const chat = await upstream.provider.doStream(call.request, contextFor(runtime, upstream, call, abort));
      const iterator = chat[Symbol.asyncIterator]();
      try {
        const first = await iterator.next(); // failover is still possible until this arrives
        return { chat, iterator, first };
      } catch (error) {
        chat.cancel();
        throw error;
      }
    },
    failoverOptions(runtime, call, abort),
  );
  const { upstream, attempt, startedAtMs } = done;
  const { chat, iterator } = done.value;
  const response = call.response;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-autocap-model': upstream.config.name,
  });

  const wantsUsage = requestedStreamUsage(call.request);
  let usage: NormalizedUsage | null = null;
  let usageForwarded = false;
  let outputText = '';
  let ttftMs: number | null = null;
  let failure: UpstreamError | null = null;
  let clientGone = false;
  response.on('close', () => {
    if (!response.writableFinished) clientGone = true;
  });
  const send = async (chunk: ChatCompletionChunk): Promise<void> => {
    if (clientGone) return;
    // Backpressure: a slow reader holds the upstream back instead of growing our buffers.
    if (!response.write(`data: ${scrub(runtime, JSON.stringify(chunk))}\n\n`)) await drained(response);
  };

  const deadline = deadlineOf(runtime, call);
  try {
    let next: IteratorResult<StreamPart> = done.value.first;
    while (!next.done) {
      const part = next.value;
      if (part.type === 'usage') usage = part.usage;
      else if (part.type === 'done') break;
      else {
        const chunk = part.chunk;
        for (const choice of chunk.choices) {
          const text = choice.delta?.content;
          if (typeof text === 'string' && text.length > 0) {
            if (ttftMs === null) ttftMs = runtime.now() - startedAtMs;
            outputText += text;
          }
        }
        const usageOnly = chunk.choices.length === 0 && chunk.usage != null;
        if (!usageOnly || wantsUsage) {
          await send(chunk);
          if (usageOnly) usageForwarded = true;
        }
      }
      if (runtime.now() > deadline) {
        throw new UpstreamError({ kind: 'timeout', message: 'the stream ran past the request timeout' });
      }
      next = await iterator.next();
    }
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    failure = error;
  } finally {
    chat.cancel();
  }

  const entry = entryFor(runtime, call, {
    upstream,
    attempt,
    startedAtMs,
    usage,
    outputText,
    ttftMs,
    status: failure ? 'error' : clientGone ? 'client_disconnected' : 'ok',
    error: failure,
    streamed: true,
  });
  if (ttftMs !== null)
    runtime.metrics.model(upstream.config.name, upstream.config.owned).ttft.observe(ttftMs / 1000);
  await runtime.ledger.write(entry);
  if (clientGone) return;
  if (failure) {
    // Mid-stream failures end the stream with an error event the OpenAI SDK raises as an APIError.
    response.end(
      `data: ${JSON.stringify({ error: { message: `The upstream stream failed after it started: ${failure.kind}. Partial output was metered.`, type: 'api_error', code: 'upstream_error' } })}\n\n`,
    );
    return;
  }
  if (wantsUsage && !usageForwarded) {
    // The upstream gave no usage chunk (or an estimate was needed): send the gateway's count.
    await send({
      id: `chatcmpl-${call.requestId}`,
      object: 'chat.completion.chunk',
      created: Math.floor(runtime.now() / 1000),
      model: call.request.model,
      choices: [],
      usage: {
        prompt_tokens: entry.inputTokens,
        completion_tokens: entry.outputTokens,
        total_tokens: entry.inputTokens + entry.outputTokens,
      },
    } as ChatCompletionChunk);
  }
  response.end('data: [DONE]\n\n');
}

/** Resolves when the response can take more, or the client has gone. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/** Private data stays on owned GPUs: tagged by the client (`metadata.data_class`) or by its key. */
function isPrivate(call: ChatCall): boolean {
  return call.request.metadata?.['data_class'] === 'private' || call.principal.dataClass === 'private';
}

function failoverOptions(runtime: GatewayRuntime, call: ChatCall, signal: CancelSignal) {
  return {
    ownedOnly: isPrivate(call),
    upstreams: runtime.upstreams,
    now: runtime.now,
    random: runtime.random,
    sleep: runtime.sleep,
    signal,
    deadlineMs: deadlineOf(runtime, call),
    onFailure: (failure: FailedAttempt) => {
      runtime.metrics.upstreamErrors.inc({ model: failure.upstream.config.name, kind: failure.error.kind });
      const entry = entryFor(runtime, call, {
        upstream: failure.upstream,
        attempt: failure.attempt,
        startedAtMs: failure.startedAtMs,
        usage: null,
        outputText: '',
        ttftMs: null,
        status: 'error',
        error: failure.error,
        streamed: call.request.stream === true,
      });
      // Not awaited: group commit keeps order, and the request's final entry is awaited after it.
      runtime.ledger.write(entry).catch((error: unknown) => {
        runtime.logger.error('ledger write failed', { requestId: call.requestId, error: String(error) });
      });
    },
  };
}

function entryFor(runtime: GatewayRuntime, call: ChatCall, record: AttemptRecord): LedgerEntryInput {
  const config: ModelConfig = record.upstream.config;
  const usage = record.usage;
  // A failed attempt with no answer bills nothing; a finished one without usage is estimated.
  const answered = record.status !== 'error' || record.outputText.length > 0;
  let estimated = false;
  let inputTokens = usage?.inputTokens;
  let outputTokens = usage?.outputTokens;
  if (answered && inputTokens === undefined) {
    inputTokens = estimatePromptTokens(call.request.messages);
    estimated = true;
  }
  if (answered && outputTokens === undefined) {
    outputTokens = estimateCompletionTokens(record.outputText);
    estimated = true;
  }
  const tokens = {
    inputTokens: inputTokens ?? 0,
    cachedInputTokens: usage?.cachedInputTokens ?? 0,
    outputTokens: outputTokens ?? 0,
    reasoningTokens: usage?.reasoningTokens ?? 0,
  };
  const cost = costUsd(config.price, tokens);
  call.meter?.(cost, tokens.inputTokens, tokens.outputTokens);
  const now = runtime.now();
  const series = runtime.metrics.model(config.name, config.owned);
  if (record.status === 'ok' && !record.error) series.ok.inc();
  else
    runtime.metrics.attempts.inc({
      model: config.name,
      outcome: record.error ? record.error.kind : record.status,
    });
  series.input.inc(tokens.inputTokens);
  series.cachedInput.inc(tokens.cachedInputTokens);
  series.output.inc(tokens.outputTokens);
  series.reasoning.inc(tokens.reasoningTokens);
  series.costUsd.inc(cost);
  return {
    id: `${call.requestId}.${record.attempt}`,
    requestId: call.requestId,
    attempt: record.attempt,
    startedAtMs: record.startedAtMs,
    keyId: call.principal.keyId,
    modelRequested: call.request.model,
    modelServed: config.name,
    provider: record.upstream.provider.id,
    owned: config.owned,
    ...tokens,
    estimated,
    costUsd: cost,
    latencyMs: now - record.startedAtMs,
    ttftMs: record.ttftMs,
    status: record.status,
    errorClass: record.error ? record.error.kind : null,
    upstreamStatus: record.error ? (record.error.status ?? null) : 200,
    streamed: record.streamed,
    // The class is recorded with the entry (and so covered by its hash), whoever set it.
    metadata: isPrivate(call)
      ? { ...call.request.metadata, data_class: 'private' }
      : (call.request.metadata ?? {}),
    rawUsage: usage?.raw === undefined ? null : JSON.stringify(usage.raw),
  };
}
