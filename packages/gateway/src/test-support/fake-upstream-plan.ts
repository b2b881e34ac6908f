/**
 * What the fake upstream answers a request with (fake-upstream.ts): its id, text or tool call (with
 * arguments filled from the tool's JSON schema), the pieces a stream sends, and its usage.
 */
import {
  anthropicFormat,
  type FakePlan,
  type FakeRequestInfo,
  type FakeUsage,
  type WireFormat,
} from './fake-upstream-formats.js';

/** What a plan needs of the request being answered. */
export interface PlanContext {
  readonly format: WireFormat;
  readonly rawBody: string;
  /** 1 for the first response: makes ids unique. */
  readonly sequence: number;
}

/** What the fake answers when a behaviour names no content. */
export const DEFAULT_CONTENT = 'Hello from the fake upstream.';

export function plan(
  context: PlanContext,
  info: FakeRequestInfo,
  content: string | undefined,
  withUsage: boolean,
  usage?: FakeUsage,
): FakePlan {
  const id = `${context.format === anthropicFormat ? 'msg_fake_' : 'chatcmpl-fake-'}${context.sequence}`;
  const tool = content === undefined && !info.afterToolResult ? pickTool(info) : undefined;
  let text: string | undefined =
    content ?? (info.afterToolResult ? 'The tool says it is sunny.' : DEFAULT_CONTENT);
  let toolCall: FakePlan['toolCall'];
  let pieces: string[];
  if (tool) {
    const args = JSON.stringify(exampleArguments(tool.schema));
    toolCall = { id: `call_fake_${context.sequence}`, name: tool.name, arguments: args };
    // OpenAI models answer a tool call without text; Claude usually says something first, unless forced.
    const preamble = context.format === anthropicFormat && info.forcedTool === undefined;
    text = preamble ? `Let me call ${tool.name}.` : undefined;
    pieces = splitEvery(args, 8);
  } else {
    pieces = (text ?? '').split(/(?= )/);
  }
  const defaultUsage = {
    input: Math.ceil(context.rawBody.length / 4),
    output: Math.max(1, pieces.length),
    cached: 0,
  };
  return {
    id,
    model: info.model,
    text,
    toolCall,
    pieces,
    usage: withUsage ? (usage ?? defaultUsage) : undefined,
  };
}

function pickTool(info: FakeRequestInfo) {
  if (info.forcedTool !== undefined) return info.tools.find((tool) => tool.name === info.forcedTool);
  return info.tools[0];
}

/** Arguments that satisfy simple schemas: one example value per declared property. */
function exampleArguments(schema: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const properties = schema['properties'];
  if (typeof properties !== 'object' || properties === null) return result;
  for (const [name, property] of Object.entries(properties)) {
    const type =
      typeof property === 'object' && property !== null && 'type' in property ? property.type : undefined;
    result[name] =
      type === 'number' || type === 'integer'
        ? 1
        : type === 'boolean'
          ? true
          : type === 'array'
            ? []
            : 'Paris';
  }
  return result;
}

function splitEvery(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let index = 0; index < text.length; index += size) pieces.push(text.slice(index, index + size));
  return pieces;
}
