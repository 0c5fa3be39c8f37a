export const STD_FLOOR_ABSOLUTE = 1e-6;
export const STD_FLOOR_RELATIVE = 1e-4;

/** std floor for a channel of this mean: keeps z finite and defined on a constant channel. */
export function stdFloor(mean: number): number {
  return Math.max(STD_FLOOR_ABSOLUTE, STD_FLOOR_RELATIVE * Math.abs(mean));
}
