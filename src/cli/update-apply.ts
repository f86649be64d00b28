// PLACEHOLDER so the bundle builds while this command is being written; its owner replaces this file.
import { HephError } from '../errors.js';
export async function updateApply(..._args: unknown[]): Promise<number> {
  throw new HephError('E_INTERNAL', 'updateApply is not built yet');
}
export async function updateRollback(..._args: unknown[]): Promise<number> {
  throw new HephError('E_INTERNAL', 'updateRollback is not built yet');
}
