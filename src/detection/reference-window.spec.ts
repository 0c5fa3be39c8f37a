import { ReferenceWindow, ReferenceWindowFormatError } from './reference-window';

const cols = ['a', 'b'];
const fill = (w: ReferenceWindow, n: number, from = 0, entity?: string) => {
  for (let i = 0; i < n; i++) w.add([from + i, -(from + i)], entity);
};

describe('ReferenceWindow', () => {
  it('commits the first chunk at minInitial, then every commitEvery rows', () => {
    const w = new ReferenceWindow(cols);
    fill(w, 255);
    expect([w.size, w.generation, w.pendingSize]).toEqual([0, 0, 255]);
    fill(w, 1, 255);
    expect([w.size, w.generation, w.pendingSize]).toEqual([256, 1, 0]);
    fill(w, 1023, 256);
    expect([w.size, w.generation]).toEqual([256, 1]);
    fill(w, 1, 1279);
    expect([w.size, w.generation]).toEqual([1280, 2]);
    expect(Array.from(w.row(1279).values)).toEqual([1279, -1279]);
  });

  it('evicts the oldest rows beyond capacity', () => {
    const w = new ReferenceWindow(cols, { capacity: 10, commitEvery: 4, minInitial: 2 });
    fill(w, 2 + 4 * 4);
    expect(w.size).toBe(10);
    expect(w.row(0).values[0]).toBe(8);
    expect(w.row(9).values[0]).toBe(17);
    expect(() => w.row(10)).toThrow(RangeError);
  });

  it('copies values on add, rejects a wrong width, clear bumps generation', () => {
    const w = new ReferenceWindow(cols, { commitEvery: 2, minInitial: 1 });
    const v = new Float64Array([1, 2]);
    w.add(v);
    v[0] = 99;
    expect(w.row(0).values[0]).toBe(1);
    expect(() => w.add([1])).toThrow(/expects 2/);
    w.clear();
    expect([w.size, w.generation]).toEqual([0, 2]);
    w.clear();
    expect(w.generation).toBe(2);
  });

  it('clone is a snapshot: later adds and commits do not change it', () => {
    const w = new ReferenceWindow(cols, { commitEvery: 3, minInitial: 2 });
    fill(w, 4);
    const snap = w.clone();
    fill(w, 5, 4);
    expect(snap.size).toBe(2);
    expect(snap.pendingSize).toBe(2);
    expect(snap.generation).toBe(1);
    expect(w.size).toBe(8);
    fill(snap, 1, 100);
    expect(snap.size).toBe(5);
    expect(w.size).toBe(8);
  });

  it('round-trips through JSON, including NaN, entities and pending rows', () => {
    const w = new ReferenceWindow(cols, { commitEvery: 3, minInitial: 2 });
    w.add([1, NaN], 'h1');
    w.add([2, 3]);
    w.add([4, 5], 'h2');
    const json = JSON.parse(JSON.stringify(w));
    expect(json.rows).toEqual([
      [1, null],
      [2, 3],
    ]);
    const back = ReferenceWindow.fromJSON(json);
    expect(back.toJSON()).toEqual(w.toJSON());
    expect(back.row(0).entity).toBe('h1');
    expect(back.row(0).values[1]).toBeNaN();
    back.add([6, 7]);
    back.add([8, 9]);
    w.add([6, 7]);
    w.add([8, 9]);
    expect(back.toJSON()).toEqual(w.toJSON());
  });

  it.each([
    [null, /expected an object/],
    [{ version: 2 }, /version/],
    [{ version: 1, columns: 'a', capacity: 1, commitEvery: 1, minInitial: 1, generation: 0, rows: [], pending: [] }, /columns/],
    [{ version: 1, columns: ['a'], capacity: 0, commitEvery: 1, minInitial: 1, generation: 0, rows: [], pending: [] }, /capacity/],
    [{ version: 1, columns: ['a'], capacity: 2, commitEvery: 1, minInitial: 1, generation: 0, rows: [[1, 2]], pending: [] }, /rows"\[0\]/],
    [{ version: 1, columns: ['a'], capacity: 2, commitEvery: 1, minInitial: 1, generation: 0, rows: [['x']], pending: [] }, /finite number/],
    [{ version: 1, columns: ['a'], capacity: 1, commitEvery: 1, minInitial: 1, generation: 0, rows: [[1], [2]], pending: [] }, /capacity/],
    [{ version: 1, columns: ['a'], capacity: 2, commitEvery: 1, minInitial: 1, generation: -1, rows: [], pending: [] }, /generation/],
    [{ version: 1, columns: ['a'], capacity: 2, commitEvery: 1, minInitial: 1, generation: 0, rows: [[1]], entities: [], pending: [] }, /entities/],
  ])('fromJSON rejects %j', (json, message) => {
    expect(() => ReferenceWindow.fromJSON(json)).toThrow(ReferenceWindowFormatError);
    expect(() => ReferenceWindow.fromJSON(json)).toThrow(message);
  });
});
