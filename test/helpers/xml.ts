// Just enough XML for what Pacemaker's tools print (the CIB, agents' meta-data): elements, their
// attributes and text. Tests compare configurations through it instead of by regex on text.

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** The element's own text (not its children's), entities decoded. */
  text: string;
}

const ENTITIES: Record<string, string> = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' };

function decode(text: string): string {
  return text.replace(/&(quot|apos|lt|gt|amp|#\d+|#x[0-9a-f]+);/gi, (_, name: string) =>
    name.startsWith('#x') || name.startsWith('#X') ? String.fromCodePoint(Number.parseInt(name.slice(2), 16))
      : name.startsWith('#') ? String.fromCodePoint(Number(name.slice(1))) : ENTITIES[name]!);
}

/** The document's root element; comments and declarations are skipped. */
export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const open: XmlElement[] = [root];
  const body = xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, '').replace(/<!DOCTYPE[^>]*>/g, '');
  let textFrom = 0;
  for (const tag of body.matchAll(/<(\/?)([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g)) {
    const [, closing, name, rest, selfClosing] = tag;
    open.at(-1)!.text += decode(body.slice(textFrom, tag.index));
    textFrom = tag.index + tag[0].length;
    if (closing) {
      if (open.length < 2 || open.at(-1)!.name !== name) throw new Error(`unexpected </${name}>`);
      open.pop();
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const attribute of rest!.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      attributes[attribute[1]!] = decode(attribute[2] ?? attribute[3] ?? '');
    }
    const element: XmlElement = { name: name!, attributes, children: [], text: '' };
    open.at(-1)!.children.push(element);
    if (!selfClosing) open.push(element);
  }
  if (open.length !== 1 || root.children.length !== 1) throw new Error('not one well-formed XML document');
  return root.children[0]!;
}

/** The text of the first child element with this name ('' when there is none). */
export function childText(element: XmlElement, name: string): string {
  return element.children.find((child) => child.name === name)?.text ?? '';
}

/** Every element below `element` (depth first) with this name. */
export function descendants(element: XmlElement, name: string): XmlElement[] {
  return element.children.flatMap((child) => [...(child.name === name ? [child] : []), ...descendants(child, name)]);
}
