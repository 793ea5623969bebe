// CRC-8 with polynomial x^8 + x^2 + x + 1 (0x07), init 0x00, no reflection, no final xor
// (the ATM HEC polynomial of ITU-T I.432.1 without its 0x55 coset). Used by the frame code
// (frame-code.ts) to reject misread bands. Table-driven: one lookup per byte.
// Check value: crc8("123456789") = 0xF4.

const TABLE: Uint8Array = buildTable();

function buildTable(): Uint8Array {
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let bit = 0; bit < 8; bit++) {
      c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    }
    table[i] = c;
  }
  return table;
}

/** CRC-8 (poly 0x07, init 0x00) over `bytes`, optionally continuing from `crc`. */
export function crc8(bytes: ArrayLike<number>, crc = 0): number {
  let c = crc & 0xff;
  for (let i = 0; i < bytes.length; i++) {
    c = TABLE[(c ^ (bytes[i] ?? 0)) & 0xff] ?? 0;
  }
  return c;
}
