// The prompt styles of `tic build --prompt-style`, apart from the emitter so that the
// CLI can list them without loading the compiler.
export type PromptStyle = 'full' | 'compact' | 'index';
export const PROMPT_STYLES: PromptStyle[] = ['full', 'compact', 'index'];
