import { changeKey, DiscreteValues, MAX_DISCRETE_VALUES, ordinaryValues } from './discrete-values';

describe('DiscreteValues', () => {
  it('lists the values of a quantised channel; often seen ones are ordinary, rare ones not', () => {
    const d = new DiscreteValues();
    for (let i = 0; i < 980; i++) d.add(0);
    for (let i = 0; i < 20; i++) d.add(20);
    d.add(7);
    const ordinary = ordinaryValues(d)!;
    expect([...ordinary].sort()).toEqual([0, 20]);
    expect(ordinary.has(7)).toBe(false);
  });

  it('pushes out the lightest values when full, and gives up on a continuous channel', () => {
    const spiky = new DiscreteValues();
    for (let i = 0; i < 2000; i++) spiky.add(i % 4);
    for (let i = 0; i < 80; i++) spiky.add(100 + i * 0.37); // one-off spike values
    expect(spiky.discrete).toBe(true);
    expect(spiky.values.length).toBeLessThanOrEqual(2 * MAX_DISCRETE_VALUES);
    expect([...ordinaryValues(spiky)!].sort()).toEqual([0, 1, 2, 3]);
    const continuous = new DiscreteValues();
    for (let i = 0; i < 500; i++) continuous.add(Math.sin(i) * 10);
    expect(continuous.discrete).toBe(false);
    expect(ordinaryValues(continuous)).toBeUndefined();
  });

  it('merges, decays, round-trips through JSON and across threads', () => {
    const a = new DiscreteValues();
    a.add(1, 3);
    const b = new DiscreteValues();
    b.add(1);
    b.add(2, 2);
    a.merge(b).decay(0.5);
    expect(a.values).toEqual([1, 2]);
    expect(a.weights).toEqual([2, 1]);
    const back = DiscreteValues.fromJSON(JSON.parse(JSON.stringify(a.toJSON())), 'x');
    expect([back.values, back.weights]).toEqual([a.values, a.weights]);
    expect(DiscreteValues.revive(structuredClone(a)).weights).toEqual([2, 1]);
    expect(DiscreteValues.fromJSON(null, 'x').discrete).toBe(false);
    expect(() => DiscreteValues.fromJSON([[1, 2]], 'x.discrete')).toThrow(/x\.discrete must be null or/);
  });

  it('keys a change by float32 so that the same decimal step is one value', () => {
    expect(71.31 - 71.3).not.toBe(0.72 - 0.71);
    expect(changeKey(71.31 - 71.3)).toBe(changeKey(0.72 - 0.71));
  });
});
