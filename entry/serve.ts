// `tooliscode/serve`: `tic serve` as a library (loads the MCP server SDK and the HTTP front).
// The main entry's `serve` loads this module on first call.
export { serve, type ServeOptions, type RunningServe } from '../serve/serve.js';
export { Sessions, CodeSession } from '../serve/sessions.js';
