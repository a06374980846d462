/** mlopt's version for model.json's `convertedBy`, read once from package.json (three levels above
 *  this file in src/ and in dist/ alike). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function mloptVersion(): string {
  if (cached) return cached;
  try {
    cached = (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    cached = '0.0.0';
  }
  return cached;
}
