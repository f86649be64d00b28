// PLACEHOLDER so the bundle builds while this command is being written; its owner replaces this file.
import { HephError } from '../errors.js';
export async function doctor(..._args: unknown[]): Promise<number> {
  throw new HephError('E_INTERNAL', 'doctor is not built yet');
}
