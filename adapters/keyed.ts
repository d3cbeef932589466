// One tool for many users: an adapter given the whole CodeMode (not one Conversation) picks
// the conversation of each call from the framework's run (its context, thread or request
// context), get-or-create by id, so one module-level agent never shares a session between
// users. A run that names no conversation is refused with an error for the developer.

import type { CodeMode, Conversation } from './code-mode.js';

/** One conversation for every call, or a CodeMode that picks one per run. */
export type ConversationSource = Conversation | CodeMode;

/** A run that names no conversation, for a tool made from a CodeMode: a setup error, not the model's. */
export class ConversationIdMissingError extends Error {
  override name = 'ConversationIdMissingError';
}

/** The conversation of this call: `source` itself, or CodeMode's conversation with the run's id. */
export function pickConversation(adapter: string, source: ConversationSource, id: unknown, howToName: string): Conversation {
  // Told apart by shape, not instanceof: importing CodeMode's class would load code-mode and serve with every adapter.
  if (!('conversation' in source && typeof source.conversation === 'function')) return source as Conversation;
  if (typeof id !== 'string' || id === '') {
    throw new ConversationIdMissingError(
      `${adapter}(codeMode) picks each run's conversation by its id, and this run names none: ${howToName} (or pass one conversation: ${adapter}(codeMode.conversation()))`,
    );
  }
  return (source as CodeMode).conversation({ id });
}
