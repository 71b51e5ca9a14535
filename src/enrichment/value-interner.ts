/**
 * Shares one string per distinct value of a column whose values repeat (an order's status, a
 * customer's tier): every cached row otherwise holds its own copy of "shipped", made when the
 * driver parsed the row, which the garbage collector copies out of the young generation and then
 * traces for as long as the row is cached. A column that turns out mostly distinct (names,
 * amounts) stops being looked at after a sample, so it costs one Map lookup per value only then.
 */
export class ValueInterner {
  private readonly values = new Map<string, string>();
  private seen = 0;
  private shared = 0;
  private off = false;

  intern(v: string | null): string | null {
    if (v === null || this.off) return v;
    const known = this.values.get(v);
    this.seen++;
    if (known !== undefined) {
      this.shared++;
      return known;
    }
    if (this.values.size >= MAX_VALUES || (this.seen >= SAMPLE && this.shared * 2 < this.seen)) {
      this.off = true;
      this.values.clear();
    } else this.values.set(v, v);
    return v;
  }
}

/** Values looked at before deciding a column does not repeat enough (fewer than half shared). */
const SAMPLE = 1024;
/** Distinct values kept per column at most. */
const MAX_VALUES = 4096;
