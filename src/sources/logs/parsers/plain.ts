import type { Parser } from './parser.js';

/** No fields: signals match the text. */
export const plainParser: Parser = () => ({ fields: {}, time: undefined, ok: true });
