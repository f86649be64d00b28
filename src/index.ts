// The library: heph's engine for any long-running Node service (docs/api.md). Everything exported
// here is public and follows semver; everything else in src/ is internal.
export type { ClientOptions, ControlClient } from './lib/client.js';
export { controlClient } from './lib/client.js';
export type { App, AppForge, AppForgeKind, AppSpec } from './lib/define.js';
export { defineApp } from './lib/define.js';
export type { AppIdentity, AppNames } from './app/identity.js';
export type { ServeContext, ServeFn } from './app/serve.js';
export type { ConnectOptions, GraceOptions } from './control/grace.js';
export { connectWithGrace, RESTART_GRACE_MS, RESTART_RETRY_MS } from './control/grace.js';
export type { StatusDocument } from './control/types.js';
export type { ErrorCode } from './errors.js';
export { EXIT, HephError, isHephError } from './errors.js';
export type { Paths } from './platform/paths.js';
