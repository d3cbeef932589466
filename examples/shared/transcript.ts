// Tokens (o200k, gpt-tokenizer) of a conversation, counted the same way for code mode and
// for direct tool calls. Every model call re-reads the whole conversation so far (the tool
// definitions, then each message); its output is the next assistant message. So:
//   read    = the sum, over model calls, of everything before that call's answer
//   written = the sum of the assistant messages (tool calls with their arguments, answers)
//   context = the whole conversation at the end
// Per-message framing tokens are left out both ways (they would add more to direct calling,
// which has more messages).

import { encode } from 'gpt-tokenizer/encoding/o200k_base';

export const tokens = (text: string): number => encode(text).length;

export interface ToolCallText {
  name: string;
  arguments: unknown;
}

export class Transcript {
  private readonly messages: { role: 'user' | 'assistant' | 'tool'; text: string }[] = [];

  /** `tools`: the tool definitions as the model is given them (JSON). */
  constructor(private readonly tools: unknown) {}

  user(text: string): this {
    this.messages.push({ role: 'user', text });
    return this;
  }

  /** One model turn: its tool calls (any number, in parallel) or its answer. */
  assistant(turn: string | ToolCallText[]): this {
    this.messages.push({ role: 'assistant', text: typeof turn === 'string' ? turn : JSON.stringify(turn) });
    return this;
  }

  tool(result: string): this {
    this.messages.push({ role: 'tool', text: result });
    return this;
  }

  get modelCalls(): number {
    return this.messages.filter((m) => m.role === 'assistant').length;
  }

  totals(): { read: number; written: number; context: number; modelCalls: number } {
    let sofar = tokens(JSON.stringify(this.tools));
    let read = 0;
    let written = 0;
    for (const m of this.messages) {
      const n = tokens(m.text);
      if (m.role === 'assistant') {
        read += sofar;
        written += n;
      }
      sofar += n;
    }
    return { read, written, context: sofar, modelCalls: this.modelCalls };
  }
}

/** The two-line comparison every example prints. */
export function compare(codeMode: Transcript, direct: Transcript): { lines: string[]; ratio: number } {
  const c = codeMode.totals();
  const d = direct.totals();
  const ratio = (c.read + c.written) / (d.read + d.written);
  const row = (name: string, t: ReturnType<Transcript['totals']>) =>
    `${name.padEnd(20)} ${String(t.modelCalls).padStart(5)} ${String(t.read).padStart(9)} ${String(t.written).padStart(9)} ${String(t.read + t.written).padStart(9)} ${String(t.context).padStart(9)}`;
  return {
    ratio,
    lines: [
      'tokens (o200k)       calls      read   written     total   context',
      row('direct tool calls', d),
      row('code mode', c),
      `code mode used ${(ratio * 100).toFixed(1)}% of the tokens of direct tool calls`,
    ],
  };
}
