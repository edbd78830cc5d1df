/**
 * One regular expression from parts written as regex literals, so a long expected message stays within the
 * 150-character line limit and keeps its escapes readable: the parts' sources are joined, their flags merged.
 */
export function joinRegExp(...parts: RegExp[]): RegExp {
  const flags = new Set(parts.flatMap((p) => [...p.flags]));
  return new RegExp(parts.map((p) => p.source).join(''), [...flags].join(''));
}
