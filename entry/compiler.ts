// `tooliscode/compiler`: `tic build` as a library (loads ts-morph, json-schema-to-typescript,
// prettier and Handlebars). The main entry's `build` loads this module on first call.
export { build, type BuildOptions, type BuildResult, type Manifest, type ManifestTool, type ToolListInput } from '../compiler/build.js';
export { CompileError, formatDiagnostic, type Diagnostic } from '../compiler/diagnostics.js';
