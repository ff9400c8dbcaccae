// The failover bench's timeline drawing (test/bench/timeline.ts): the SVG it returns read back by a
// well-kept XML parser (@xmldom/xmldom) and checked as a reader would look at it: well formed, its
// texts escaped, the panels in order on one time axis, failed requests drawn, thinning bounded.
import test from 'ava';
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { timelineSvg, type ClusterEvent, type LayoutTimeline, type RequestMark } from '../bench/timeline.ts';

// The renderer's colours for a failed and an answered request.
const RED = '#d62728';
const GREEN = '#2ca02c';

/** The SVG parsed, every problem the parser reported (warnings too) collected. */
function parseSvg(svg: string): { readonly document: Document; readonly problems: readonly string[] } {
  const problems: string[] = [];
  const document = new DOMParser({ onError: (level, message) => { problems.push(`${level}: ${message}`); } }).parseFromString(svg, 'image/svg+xml');
  return { document, problems };
}

function elements(document: Document, name: string): Element[] {
  return Array.from(document.getElementsByTagName(name));
}

function texts(document: Document): string[] {
  return elements(document, 'text').map((text) => text.textContent ?? '');
}

/** Drawn requests (tick paths) of one colour. */
function marks(document: Document, colour: string): number {
  return elements(document, 'path').filter((path) => path.getAttribute('fill') === colour).length;
}

/** An element's vertical position in the document: the sum of its and its ancestors' translate(x,y). */
function top(element: Element): number {
  let y = 0;
  for (let node: Element | null = element; node?.nodeType === 1; node = node.parentNode as Element | null) {
    const translate = /translate\(\s*[-\d.e]+\s*,\s*([-\d.e]+)\s*\)/.exec(node.getAttribute('transform') ?? '');
    if (translate) y += Number(translate[1]);
  }
  return y;
}

function textElement(document: Document, content: string): Element {
  const found = elements(document, 'text').find((text) => text.textContent === content);
  if (!found) throw new Error(`no <text> reads ${JSON.stringify(content)}`);
  return found;
}

/** `count` requests evenly from `fromMs` to `toMs`, failed where `failed(at, i)`. */
function loop(count: number, fromMs: number, toMs: number, failed: (at: number, i: number) => boolean = () => false): RequestMark[] {
  return Array.from({ length: count }, (_, i) => {
    const at = fromMs + ((toMs - fromMs) * i) / count;
    const ok = !failed(at, i);
    return { at, ms: ok ? 4 : 2_000, ok };
  });
}

const fault: ClusterEvent = { at: 0, kind: 'fault', text: 'kill -9 keystone on node1' };
const repair: ClusterEvent = { at: 40_000, kind: 'repair', text: 'crm_resource --cleanup' };

function stock(): LayoutTimeline {
  return {
    layout: 'stock (lsb:)',
    requests: loop(400, -3_000, 50_000, (at) => at >= 0 && at < 20_000),
    tokens: loop(100, -3_000, 50_000, (at) => at >= 0 && at < 22_000),
    events: [fault, { at: 15_000, kind: 'failed', text: "keystone_monitor_10000 on node1 'not running'" }, { at: 18_000, kind: 'start', text: 'keystone on node1' }, repair],
    endMs: 50_000,
  };
}

function ours(): LayoutTimeline {
  return {
    layout: 'ours (ocf:openstack:)',
    requests: loop(400, -3_000, 48_000, (at) => at >= 0 && at < 2_500),
    events: [fault, { at: 2_000, kind: 'vip', text: 'vip moves to node2' }, repair],
    endMs: 48_000,
  };
}

test('two layouts: one well-formed SVG document, about 900 px wide, both panels titled, the first given on top', async (t) => {
  const svg = await timelineSvg('keystone killed on the VIP node', [stock(), ours()]);
  t.true(svg.startsWith('<svg'));
  const { document, problems } = parseSvg(svg);
  t.deepEqual(problems, []);
  const root = document.documentElement!;
  t.is(root.tagName, 'svg');
  t.is(root.namespaceURI, 'http://www.w3.org/2000/svg');
  const width = Number(root.getAttribute('width'));
  t.true(width >= 850 && width <= 950, `width ${width}`);
  const title = textElement(document, 'keystone killed on the VIP node');
  const first = textElement(document, 'stock (lsb:)');
  const second = textElement(document, 'ours (ocf:openstack:)');
  t.true(top(title) < top(first), 'the title above the panels');
  t.true(top(first) < top(second), 'the first layout given on top');
  t.true(texts(document).includes('tokens'), 'the stock run had token requests: their lane');
});

test('the texts are escaped: an event text, a layout name and the title with <&" read back as given', async (t) => {
  const text = 'keystone said "no" <&> to the check';
  const long = `${'x'.repeat(45)}<&"`;
  const layout: LayoutTimeline = {
    layout: 'ours "<&>"', requests: loop(10, -1_000, 9_000), endMs: 10_000,
    events: [fault, { at: 3_000, kind: 'failed', text }, { at: 6_000, kind: 'stop', text: long }],
  };
  const svg = await timelineSvg('a title <&"> too', [layout]);
  const { document, problems } = parseSvg(svg);
  t.deepEqual(problems, []);
  t.false(svg.includes('<&'), 'no raw < or & left in the document');
  t.true(svg.includes('keystone said "no" &lt;&amp;&gt; to the check'), 'escaped in the text content');
  const all = texts(document);
  t.true(all.includes(`failed: ${text}`), 'the label reads the event text as given');
  t.true(all.includes('ours "<&>"'));
  t.true(all.includes('a title <&"> too'));
  t.true(all.includes(`stop: ${'x'.repeat(40)}…`), 'a label keeps the first 40 characters of the text');
  const attributes = elements(document, 'g').map((g) => g.getAttribute('aria-label') ?? '');
  t.true(attributes.some((label) => label.includes('a title <&"> too')), 'in an attribute too (the title\'s aria-label)');
});

test('control characters, which XML cannot carry, do not break the document', async (t) => {
  const layout: LayoutTimeline = { layout: 'stock\u0007', requests: loop(5, 0, 5_000), endMs: 5_000, events: [{ at: 1_000, kind: 'node', text: 'node2\u001b[31m OFFLINE\u0000' }] };
  const { document, problems } = parseSvg(await timelineSvg('bell\u0007', [layout]));
  t.deepEqual(problems, []);
  t.true(texts(document).includes('node: node2 [31m OFFLINE'));
});

test('failed requests are drawn in red, answered ones in green, one mark each', async (t) => {
  const layout: LayoutTimeline = { layout: 'stock (lsb:)', requests: loop(20, -2_000, 18_000, (_, i) => i === 3 || i === 4 || i === 17), events: [fault], endMs: 20_000 };
  const { document } = parseSvg(await timelineSvg('a few', [layout]));
  t.is(marks(document, RED), 3);
  t.is(marks(document, GREEN), 17);
  t.true(texts(document).includes('requests: 20 in view, 3 failed'));
});

test('a 10 000-request lane is thinned: every failed request kept, at most 3000 marks', async (t) => {
  // A burst of failures after the fault and scattered ones: 10 000 requests over 50 s.
  const requests = loop(10_000, -2_000, 48_000, (at, i) => (at >= 0 && at < 2_000) || i % 97 === 0);
  const failed = requests.filter((r) => !r.ok).length;
  t.true(failed > 400 && failed < 600, `${failed} failed`);
  const layout: LayoutTimeline = { layout: 'ours (ocf:openstack:)', requests, events: [fault, repair], endMs: 48_000 };
  const { document, problems } = parseSvg(await timelineSvg('thinned', [layout]));
  t.deepEqual(problems, []);
  t.is(marks(document, RED), failed, 'every failed request drawn');
  const green = marks(document, GREEN);
  t.true(green >= 1_000 && failed + green <= 3_000, `${green} answered drawn`);
  t.true(texts(document).includes(`requests: 10000 in view, ${failed} failed, ${green} of the ${10_000 - failed} answered drawn`));
});

test('thinning starts past 3000 requests in a lane, and thins only that lane', async (t) => {
  const layout: LayoutTimeline = {
    layout: 'stock (lsb:)', requests: loop(3_000, -2_000, 48_000, (_, i) => i % 500 === 0), tokens: loop(3_001, -2_000, 48_000), events: [fault], endMs: 48_000,
  };
  const { document } = parseSvg(await timelineSvg('at the bound', [layout]));
  t.is(marks(document, RED), 6);
  const subtitle = /^requests: 3000 in view, 6 failed; tokens: 3001 in view, 0 failed, (\d+) of the 3001 answered drawn$/.exec(texts(document).find((text) => text.startsWith('requests: ')) ?? '');
  t.truthy(subtitle, 'the requests lane not thinned, the tokens lane thinned');
  const drawn = Number(subtitle?.[1]);
  t.true(drawn > 2_900 && drawn <= 3_000, `${drawn} token requests drawn`);
  t.is(marks(document, GREEN), 2_994 + drawn);
});

test('one time axis for every panel: from the first request or event, at most 5 s before the fault, to the largest endMs', async (t) => {
  const early: LayoutTimeline = { ...stock(), requests: loop(200, -60_000, 50_000) };
  const { document } = parseSvg(await timelineSvg('one axis', [early, { ...ours(), endMs: 60_000 }]));
  const axes = elements(document, 'g').filter((g) => (g.getAttribute('class') ?? '').includes('role-axis-label'));
  t.is(axes.length, 2, 'one axis per panel');
  const labels = axes.map((axis) => Array.from(axis.getElementsByTagName('text')).map((text) => `${text.getAttribute('transform')} ${text.textContent}`));
  t.deepEqual(labels[0], labels[1], 'the same ticks at the same places');
  // The ticks' labels (Vega writes a minus as U+2212) and where they are: the plot is 800 px wide.
  const ticks = Array.from(axes[0]!.getElementsByTagName('text')).map((text) => ({
    s: Number((text.textContent ?? '').replace('\u2212', '-')), x: Number(/translate\(([-\d.]+),/.exec(text.getAttribute('transform') ?? '')?.[1]),
  }));
  t.deepEqual(ticks.at(0), { s: -5, x: 0 }, 'the axis begins 5 s before the fault, not at the first request (-60 s)');
  t.true(ticks.some((tick) => tick.s === 0 && tick.x === 800 * 5 / 65));
  t.deepEqual(ticks.at(-1), { s: 60, x: 800 }, 'and ends at the largest endMs');
  const answeredInView = [early.requests, early.tokens!, ours().requests].flat().filter((r) => r.ok && r.at >= -5_000).length;
  t.is(marks(document, GREEN), answeredInView, 'the requests before -5 s are not drawn');

  const late: LayoutTimeline = { layout: 'late', requests: loop(10, 1_000, 10_000), events: [], endMs: 10_000 };
  const axis = elements(parseSvg(await timelineSvg('late', [late])).document, 'g').find((g) => (g.getAttribute('class') ?? '').includes('role-axis-label'))!;
  const first = axis.getElementsByTagName('text')[0]!;
  t.is(first.textContent, '0', 'the axis begins at the fault at the latest');
  t.regex(first.getAttribute('transform') ?? '', /^translate\(0,/);
});

test('events crowding past the label rows: their rules stay, the fault and the repair keep their labels, the rest are counted', async (t) => {
  const kinds = ['failed', 'stop', 'start', 'vip', 'node'] as const;
  const crowd = Array.from({ length: 30 }, (_, i): ClusterEvent => ({ at: 1_000 + i * 20, kind: kinds[i % 5]!, text: `event ${i}, with a description long enough to take room` }));
  const layout: LayoutTimeline = { layout: 'stock (lsb:)', requests: loop(50, -1_000, 30_000), events: [...crowd, fault, { ...repair, at: 1_200 }], endMs: 30_000 };
  const { document, problems } = parseSvg(await timelineSvg('crowded', [layout]));
  t.deepEqual(problems, []);
  const all = texts(document);
  t.true(all.includes('fault: kill -9 keystone on node1'));
  t.true(all.includes('repair: crm_resource --cleanup'));
  const labelled = all.filter((text) => /^(failed|stop|start|vip|node): event /.test(text)).length;
  t.true(labelled > 0 && labelled < 30, `${labelled} of 30 labelled`);
  t.true(all.some((text) => text.endsWith(`; ${30 - labelled} events too crowded to label`)));
  const rules = elements(document, 'line').filter((line) => (line.getAttribute('stroke-dasharray') ?? '') !== '').length;
  t.is(rules, 30, 'a rule for every event but the fault and the repair (drawn solid)');
});

test('rejects what it cannot draw, with a RangeError', async (t) => {
  await t.throwsAsync(timelineSvg('none', []), { instanceOf: RangeError, message: /no layout/ });
  const nan: LayoutTimeline = { ...ours(), requests: [{ at: Number.NaN, ms: 1, ok: true }] };
  await t.throwsAsync(timelineSvg('nan', [nan]), { instanceOf: RangeError, message: /NaN, not a finite number/ });
  await t.throwsAsync(timelineSvg('end', [{ ...ours(), endMs: Number.POSITIVE_INFINITY }]), { instanceOf: RangeError, message: /endMs/ });
  const kind = { ...ours(), events: [{ at: 0, kind: 'reboot', text: '' } as unknown as ClusterEvent] };
  await t.throwsAsync(timelineSvg('kind', [kind]), { instanceOf: RangeError, message: /"reboot" is not one of/ });
  const before: LayoutTimeline = { layout: 'before', requests: loop(10, -4_000, -1_000), events: [], endMs: -500 };
  await t.throwsAsync(timelineSvg('before', [before, { ...before, endMs: 0 }]), { instanceOf: RangeError, message: /not after the fault/ });
});
