/** An imported entry's [scope, list_id, reason, note]: few distinct ones per batch, so stored once each. */
export type ImportKind = [scope: string, listId: string, reason: string, note: string | null];

/**
 * One batch of a suppression import's validated rows, in the shape that is cheap to hand from the
 * parse thread to the writer: the canonical keys as one string with their end offsets, and each
 * row's kind as an index into the batch's few distinct kinds. Posting it copies two strings and
 * transfers two buffers, where an array of row arrays (or its JSON) costs per row on both sides.
 */
export interface ImportBatch {
  count: number;
  /** The keys, concatenated: row i's key is keys.slice(ends[i - 1] ?? 0, ends[i]). */
  keys: string;
  ends: Uint32Array<ArrayBuffer>;
  /** Row i's kind is kinds[kindOf[i]]. */
  kindOf: Uint32Array<ArrayBuffer>;
  kinds: ImportKind[];
}

/** Collects rows into an ImportBatch. */
export class ImportBatchBuilder {
  private keys: string[] = [];
  private ends: Uint32Array;
  private kindOf: Uint32Array;
  private kinds: ImportKind[] = [];
  private kindIds = new Map<string, number>();
  private chars = 0;

  constructor(private capacity: number) {
    this.ends = new Uint32Array(capacity);
    this.kindOf = new Uint32Array(capacity);
  }

  get length(): number {
    return this.keys.length;
  }

  /** Adds a row (the builder must not be full). */
  add(key: string, scope: string, listId: string, reason: string, note: string | null): void {
    const i = this.keys.length;
    this.keys.push(key);
    this.chars += key.length;
    this.ends[i] = this.chars;
    this.kindOf[i] = this.kindId(scope, listId, reason, note);
  }

  private kindId(scope: string, listId: string, reason: string, note: string | null): number {
    // A batch usually has a handful of kinds: comparing is cheaper than building a lookup key.
    const kinds = this.kinds;
    const n = Math.min(kinds.length, 8);
    for (let k = 0; k < n; k++) {
      const x = kinds[k];
      if (x[2] === reason && x[0] === scope && x[1] === listId && x[3] === note) return k;
    }
    if (kinds.length < 8) return kinds.push([scope, listId, reason, note]) - 1;
    // Lengths make the lookup key unambiguous whatever the list id and note hold.
    const id = `${scope}\u0000${reason}\u0000${listId.length}\u0000${listId}\u0000${note === null ? -1 : note.length}\u0000${note ?? ''}`;
    let k = this.kindIds.get(id);
    if (k === undefined) {
      k = kinds.push([scope, listId, reason, note]) - 1;
      this.kindIds.set(id, k);
    }
    return k;
  }

  /** The batch so far (the builder starts over). */
  take(): ImportBatch {
    const count = this.keys.length;
    const b: ImportBatch = { count, keys: this.keys.join(''), ends: this.ends.slice(0, count), kindOf: this.kindOf.slice(0, count), kinds: this.kinds };
    this.keys = [];
    this.kinds = [];
    this.kindIds = new Map();
    this.chars = 0;
    return b;
  }
}

/** Calls `row` for each row of a batch, in order. */
export function forEachImportRow(b: ImportBatch, row: (key: string, kind: ImportKind, i: number) => void): void {
  let start = 0;
  for (let i = 0; i < b.count; i++) {
    const end = b.ends[i];
    row(b.keys.slice(start, end), b.kinds[b.kindOf[i]], i);
    start = end;
  }
}
