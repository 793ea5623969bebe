// Minimal RTP receive counter for the bench's own receivers (probe and bare-werift): extended
// sequence numbers (unwrapped against the highest seen, RFC 3550 A.1), packets received, packets
// expected. Loss in a window = Δexpected − Δreceived. O(1), no allocation per packet.

export class SeqCounter {
  received = 0;
  first = 0;
  max = -1;

  push(seq) {
    if (this.max < 0) {
      this.first = this.max = seq + 0x10000; // headroom so a reordered earlier packet stays ≥ 0
      this.received = 1;
      return;
    }
    let d = seq - (this.max & 0xffff);
    if (d > 0x8000) d -= 0x10000;
    else if (d < -0x8000) d += 0x10000;
    const ext = this.max + d;
    if (ext > this.max) this.max = ext;
    else if (ext < this.first) this.first = ext;
    this.received++;
  }

  get expected() {
    return this.max < 0 ? 0 : this.max - this.first + 1;
  }
}
