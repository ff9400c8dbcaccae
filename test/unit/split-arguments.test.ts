import test from 'ava';
import { splitArguments } from '../../shared/ocf/exec.ts';

test('words split on blanks, quotes group, nothing is evaluated', (t) => {
  t.deepEqual(splitArguments('  -a  b\tc '), ['-a', 'b', 'c']);
  t.deepEqual(splitArguments(`-o 'a b' "c d" e\\ f`), ['-o', 'a b', 'c d', 'e f']);
  t.deepEqual(splitArguments('$(rm -rf /) `id` ; | & > x *'), ['$(rm', '-rf', '/)', '`id`', ';', '|', '&', '>', 'x', '*']);
  t.deepEqual(splitArguments(`"$HOME" '$HOME'`), ['$HOME', '$HOME']);
  t.deepEqual(splitArguments(`"a \\"quoted\\" \\\\ word"`), ['a "quoted" \\ word']);
  t.deepEqual(splitArguments(`''`), ['']);
  t.deepEqual(splitArguments(''), []);
});

test('unterminated quotes are reported, not guessed', (t) => {
  t.deepEqual(splitArguments(`-o 'open`), { error: 'unterminated single quote' });
  t.deepEqual(splitArguments(`-o "open`), { error: 'unterminated double quote' });
});
