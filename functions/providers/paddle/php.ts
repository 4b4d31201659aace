/**
 * The part of PHP that Paddle Classic's signature depends on: how `$_POST` turns field names into
 * array keys, how `ksort()` orders them and how `serialize()` writes the array. Paddle signs
 * `serialize(ksort(fields without p_signature))`; its reference verifier is PHP, so "correct" means
 * "what PHP 8 does", checked against the real interpreter in the tests.
 *
 * For the names Paddle sends (`p_order_id`, `event_time`, custom fields like `email`) this is
 * simply byte order and `s:<bytes>:"<key>";`. The extra rules below exist for custom field names
 * that look like numbers: PHP stores `"42"` as the integer key 42 (written `i:42;`) and compares
 * numeric names numerically. Names that mix both kinds so that PHP's own comparison is not
 * transitive (e.g. `2`, `10`, `1a`) have no well-defined order; the docs tell sellers to name
 * custom fields with letters, digits and `_`, starting with a letter.
 */

/** A PHP array key: integer keys keep their value, everything else is a byte string. */
type IntKey = { kind: 'int'; value: bigint; text: string };
type StringKey = { kind: 'string'; value: Buffer; text: string };
type PhpKey = IntKey | StringKey;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** PHP's ZEND_HANDLE_NUMERIC_STR: a canonical decimal integer in range becomes an integer key. */
function phpKey(name: string): PhpKey {
  if (/^(0|-?[1-9][0-9]*)$/.test(name)) {
    const value = BigInt(name);
    if (value >= INT64_MIN && value <= INT64_MAX) return { kind: 'int', value, text: name };
  }
  return { kind: 'string', value: Buffer.from(name, 'utf8'), text: name };
}

type PhpNumber = { kind: 'long'; value: bigint } | { kind: 'double'; value: number };

/**
 * PHP 8's is_numeric_string: optional leading whitespace, sign, digits with an optional decimal
 * point, optional exponent, optional trailing whitespace. Integers that overflow 64 bits are doubles.
 */
function phpNumeric(text: string): PhpNumber | undefined {
  const match = /^[ \t\n\r\v\f]*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[ \t\n\r\v\f]*$/.exec(text);
  if (!match) return undefined;
  const literal = match[1]!;
  if (/^[+-]?[0-9]+$/.test(literal)) {
    const value = BigInt(literal);
    if (value >= INT64_MIN && value <= INT64_MAX) return { kind: 'long', value };
  }
  return { kind: 'double', value: Number(literal) };
}

function compareNumbers(a: PhpNumber, b: PhpNumber): number {
  if (a.kind === 'long' && b.kind === 'long') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  const x = Number(a.value);
  const y = Number(b.value);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** zend_binary_strcmp: bytes first, then length. */
function compareBytes(a: Buffer, b: Buffer): number {
  return Math.sign(Buffer.compare(a, b));
}

/** `ksort($a)` with the default SORT_REGULAR flag (php_array_key_compare_unstable_i, PHP 8). */
function compareKeys(a: PhpKey, b: PhpKey): number {
  if (a.kind === 'int' && b.kind === 'int') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  if (a.kind === 'string' && b.kind === 'string') {
    // zendi_smart_strcmp: numerically when both are numeric strings, else byte by byte.
    const x = phpNumeric(a.text);
    const y = x && phpNumeric(b.text);
    return x && y ? compareNumbers(x, y) : compareBytes(a.value, b.value);
  }
  return a.kind === 'int' ? compareIntToString(a, b as StringKey) : -compareIntToString(b as IntKey, a);
}

/** compare_longs_to_string: numerically when the string is numeric, else as decimal text, byte by byte. */
function compareIntToString(int: IntKey, str: StringKey): number {
  const numeric = phpNumeric(str.text);
  return numeric ? compareNumbers({ kind: 'long', value: int.value }, numeric) : compareBytes(Buffer.from(int.text, 'utf8'), str.value);
}

/**
 * `serialize()` of an associative array of strings after `ksort()`, exactly as PHP writes it:
 * `a:<n>:{s:<bytes>:"<key>";s:<bytes>:"<value>";…}` — lengths are UTF-8 byte counts, integer-like
 * keys are `i:<n>;`, and an empty value is `s:0:"";` (never `N;`).
 */
export function phpSerializeSorted(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  const entries = fields.map(([name, value]) => ({ key: phpKey(name), value }));
  // Array.prototype.sort is stable, as PHP 8's sort is: equal keys (`1.0`, `1.00`) keep their order.
  entries.sort((x, y) => compareKeys(x.key, y.key));
  const parts: Buffer[] = [Buffer.from(`a:${entries.length}:{`, 'utf8')];
  for (const { key, value } of entries) {
    parts.push(key.kind === 'int' ? Buffer.from(`i:${key.text};`, 'utf8') : phpString(key.value));
    parts.push(phpString(Buffer.from(value, 'utf8')));
  }
  parts.push(Buffer.from('}', 'utf8'));
  return Buffer.concat(parts);
}

function phpString(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`s:${bytes.length}:"`, 'utf8'), bytes, Buffer.from('";', 'utf8')]);
}
