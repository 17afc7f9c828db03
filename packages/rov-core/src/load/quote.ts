// Quoting untrusted input in error messages: a bad line may be megabytes long or binary,
// and error messages end up on terminals and in log lines. At most `max` characters are
// kept, and everything outside printable ASCII is escaped, so that no control byte (an
// escape sequence, a carriage return) reaches the reader.

/** Characters of bad input an error message quotes at most. */
export const QUOTE_MAX = 80;

/** `text` as a double-quoted string of at most `max` characters, escaped, "…" when cut. */
export function quoteInput(text: string, max = QUOTE_MAX): string {
  const cut = text.length > max;
  return `"${escapeControls(cut ? text.slice(0, max) : text, true)}${cut ? '…' : ''}"`;
}

/**
 * `text` with every character outside printable ASCII escaped (\xNN, \uNNNN), and with
 * `quoting` also `"` and `\` (for text inside double quotes).
 */
export function escapeControls(text: string, quoting = false): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && (!quoting || (c !== 0x22 && c !== 0x5c))) continue;
    out += text.slice(from, i);
    out +=
      c === 0x22
        ? '\\"'
        : c === 0x5c
          ? '\\\\'
          : c < 0x100
            ? `\\x${c.toString(16).padStart(2, '0')}`
            : `\\u${c.toString(16).padStart(4, '0')}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** Characters of an error message kept when it carries another error's message. */
export const MESSAGE_MAX = 200;

/**
 * Another error's message made safe to pass on: escaped and at most `max` characters
 * (prefix and AS number errors quote their field whole, and the field may be anything).
 */
export function safeMessage(text: string, max = MESSAGE_MAX): string {
  const escaped = escapeControls(text);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}
