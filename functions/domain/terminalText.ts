/**
 * Text a terminal (or any viewer) would act on rather than show. Customer names and the like come
 * from storefronts and, through them, from anyone: they are cleaned where they enter (the
 * canonical event) and again where they are printed (the CLI), with the same rules.
 */

/**
 * Escape sequences: CSI (`ESC [` … final byte), OSC / DCS / SOS / PM / APC strings (up to BEL or
 * ST), and two-byte escapes; also their 8-bit C1 forms. Removed whole, so no parameter bytes (an
 * OSC 52 clipboard payload, an OSC 8 link target) are left behind.
 */
export const ESCAPE_SEQUENCE =
  /\u001b\[[0-?]*[ -/]*[@-~]?|\u009b[0-?]*[ -/]*[@-~]?|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[\s\S]?/g;

/**
 * C0 controls (but tab and newline), DEL, C1, and the Unicode bidi controls that reorder what is
 * shown (a "Trojan Source" name or link text).
 */
export const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without escape sequences (whole) and control characters. */
export function withoutTerminalControls(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL_CHARACTERS, '');
}
