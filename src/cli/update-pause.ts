// PLACEHOLDER so the bundle builds while this command is being written; its owner replaces this file.
import { HephError } from '../errors.js';
export async function updatePause(..._args: unknown[]): Promise<number> {
  throw new HephError('E_INTERNAL', 'updatePause is not built yet');
}
export async function updateResume(..._args: unknown[]): Promise<number> {
  throw new HephError('E_INTERNAL', 'updateResume is not built yet');
}
