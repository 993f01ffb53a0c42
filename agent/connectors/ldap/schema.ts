/** Names from RFC 4512 schema descriptions (`attributeTypes`, `objectClasses` values). */
export interface SchemaItem {
  oid: string;
  /** First NAME; `aliases` holds the others (e.g. cn / commonName). */
  name: string;
  aliases: string[];
  singleValue?: boolean;
  syntax?: string;
  kind?: 'STRUCTURAL' | 'AUXILIARY' | 'ABSTRACT';
  must?: string[];
  may?: string[];
}

/** Tokens of a description: `(`, `)`, quoted strings (unquoted), bare words. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (ch === ' ' || ch === '\t' || ch === '\n') i++;
    else if (ch === '(' || ch === ')') tokens.push(text[i++] ?? '');
    else if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      tokens.push(text.slice(i + 1, end < 0 ? text.length : end));
      i = end < 0 ? text.length : end + 1;
    } else {
      let j = i;
      while (j < text.length && !" \t\n()'".includes(text[j] ?? ' ')) j++;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

/** Reads one qdescrs / oids value: a single token or a parenthesised list (`$` separated). */
function readList(tokens: string[], at: number): [string[], number] {
  if (tokens[at] !== '(') return [[tokens[at] ?? ''], at + 1];
  const out: string[] = [];
  let i = at + 1;
  for (; i < tokens.length && tokens[i] !== ')'; i++)
    if (tokens[i] !== '$') out.push(tokens[i] ?? '');
  return [out, i + 1];
}

export function parseSchemaItem(text: string): SchemaItem | undefined {
  const tokens = tokenize(text);
  if (tokens[0] !== '(' || !tokens[1]) return undefined;
  const item: SchemaItem = { oid: tokens[1], name: tokens[1], aliases: [] };
  for (let i = 2; i < tokens.length; ) {
    const key = tokens[i++];
    if (key === 'NAME' || key === 'MUST' || key === 'MAY') {
      const [list, next] = readList(tokens, i);
      i = next;
      if (key === 'NAME') [item.name = item.oid, ...item.aliases] = list;
      else item[key === 'MUST' ? 'must' : 'may'] = list;
    } else if (key === 'SYNTAX') item.syntax = tokens[i++];
    else if (key === 'SINGLE-VALUE') item.singleValue = true;
    else if (key === 'STRUCTURAL' || key === 'AUXILIARY' || key === 'ABSTRACT') item.kind = key;
    else if (key === 'DESC' || key === 'SUP' || key === 'EQUALITY' || key === 'ORDERING') {
      i = readList(tokens, i)[1];
    } else if (key === 'SUBSTR' || key === 'USAGE' || key?.startsWith('X-')) {
      i = readList(tokens, i)[1];
    }
  }
  return item;
}
