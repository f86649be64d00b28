// PLACEHOLDER so the bundle builds while this command is being written; its owner replaces this file.
import { HephError } from '../errors.js';
export async function daemonInstall(..._args: unknown[]): Promise<number> {
  throw new HephError('E_INTERNAL', 'daemonInstall is not built yet');
}
export async function daemonVerb(..._args: unknown[]): Promise<number> {
  throw new HephError('E_INTERNAL', 'daemonVerb is not built yet');
}
export async function daemonLogs(..._args: unknown[]): Promise<number> {
  throw new HephError('E_INTERNAL', 'daemonLogs is not built yet');
}
