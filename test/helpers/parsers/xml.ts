// What Pacemaker's tools print (the CIB, crm_mon's status, agents' meta-data), read by a well-kept
// XML parser (@xmldom/xmldom) into a small tree of elements, their attributes and text. Tests compare
// configurations through it instead of by regex on text. Tests only: the agents never load it.
import { DOMParser, type Element, type Node } from '@xmldom/xmldom';

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** The element's own text (not its children's), entities decoded. */
  text: string;
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

function toTree(element: Element): XmlElement {
  const attributes: Record<string, string> = {};
  for (let i = 0; i < element.attributes.length; i++) {
    const attribute = element.attributes.item(i)!;
    attributes[attribute.name] = attribute.value;
  }
  const tree: XmlElement = { name: element.tagName, attributes, children: [], text: '' };
  for (let node: Node | null = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === ELEMENT_NODE) tree.children.push(toTree(node as Element));
    else if (node.nodeType === TEXT_NODE || node.nodeType === CDATA_SECTION_NODE) tree.text += node.nodeValue ?? '';
  }
  return tree;
}

/** The document's root element; comments, declarations and the DOCTYPE are skipped. Throws on XML that is not well formed. */
export function parseXml(xml: string): XmlElement {
  let problem: string | undefined;
  let document;
  try {
    document = new DOMParser({ onError: (level, message) => { if (level !== 'warning') problem ??= message; } }).parseFromString(xml, 'text/xml');
  } catch (error) {
    problem ??= error instanceof Error ? error.message : String(error);
  }
  if (problem || !document?.documentElement) throw new Error(`not one well-formed XML document: ${problem ?? 'no root element'}`);
  return toTree(document.documentElement);
}

/** The text of the first child element with this name ('' when there is none). */
export function childText(element: XmlElement, name: string): string {
  return element.children.find((child) => child.name === name)?.text ?? '';
}

/** Every element below `element` (depth first) with this name. */
export function descendants(element: XmlElement, name: string): XmlElement[] {
  return element.children.flatMap((child) => [...(child.name === name ? [child] : []), ...descendants(child, name)]);
}
