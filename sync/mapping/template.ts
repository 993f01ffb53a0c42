import { MappingError } from './values.ts';

/** A parsed template: literal text and LDAP attribute placeholders, in order. */
export type TemplatePart = { text: string } | { attr: string };

const ATTR = /^[A-Za-z][A-Za-z0-9-]*$/;

/**
 * Parses `"{givenName} {sn}"` once, when the mapping is saved. `{{` and `}}` stand for literal
 * braces; an unclosed or empty placeholder is an error rather than text, so a typo is caught
 * before the first run instead of producing odd display names.
 */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const c = template.charAt(i);
    const next = template.charAt(i + 1);
    if ((c === '{' && next === '{') || (c === '}' && next === '}')) {
      text += c;
      i++;
    } else if (c === '{') {
      const end = template.indexOf('}', i + 1);
      if (end < 0) throw new MappingError(`unclosed "{" at position ${i}`);
      const attr = template.slice(i + 1, end);
      if (!ATTR.test(attr)) throw new MappingError(`"{${attr}}" is not an LDAP attribute name`);
      if (text) parts.push({ text });
      text = '';
      parts.push({ attr });
      i = end;
    } else if (c === '}') {
      throw new MappingError(`unmatched "}" at position ${i} (write "}}" for a literal brace)`);
    } else {
      text += c;
    }
  }
  if (text) parts.push({ text });
  return parts;
}

/** The placeholders of a parsed template. */
export const templateAttributes = (parts: TemplatePart[]): string[] =>
  parts.flatMap((p) => ('attr' in p ? [p.attr] : []));

/**
 * Fills a template with first values. A missing attribute becomes "" — or, for a required
 * rule, an error naming it, since a half-filled name would be stored as if it were complete.
 */
export function renderTemplate(
  parts: TemplatePart[],
  lookup: (attr: string) => string | undefined,
  required: boolean,
): string {
  let out = '';
  for (const part of parts) {
    if ('text' in part) {
      out += part.text;
      continue;
    }
    const value = lookup(part.attr);
    if (value === undefined && required) {
      throw new MappingError(`template: LDAP attribute "${part.attr}" is missing`);
    }
    out += value ?? '';
  }
  return out;
}
