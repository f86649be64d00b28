// What a call ended with, as one comparable string: the HephError code it threw, 'ok' when it
// returned, or the text of any other error, so tables of cases can list the expected code.
import { isHephError } from '../../src/errors.js';

export function errorCode(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isHephError(e) ? e.code : String(e);
  }
}
