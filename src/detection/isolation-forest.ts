/**
 * Isolation forest (Liu, Ting & Zhou 2008): trees grown by `ml-isolation-forest`, compiled into flat
 * typed arrays for scoring.
 *
 * Where we follow the paper rather than the library:
 * - Subsampling: the library grows every tree on the whole training set. We grow each tree on its
 *   own subsample drawn without replacement with our seeded PRNG (one library forest of one tree per
 *   subsample). Subsample size psi = 256, or half the rows while fewer than 512 rows are available,
 *   so every row is out of bag for about half the trees or more (needed for calibration, below).
 * - Determinism: the library draws split features and values from `Math.random`. During `fit` we
 *   substitute `Math.random` with the seeded PRNG and restore it in `finally`. This is safe because
 *   fitting is synchronous: no other code can run (and draw from our PRNG, or miss `Math.random`)
 *   until it is restored.
 * - c(n): the library's average path length uses `2 ln(n-1) + 0.57721 - ...`; the paper's is
 *   `2 H(n-1) - 2(n-1)/n` with H(i) ~ ln(i) + gamma, i.e. `2 (ln(n-1) + gamma) - 2(n-1)/n`. We
 *   compute leaf adjustments and the normaliser with the paper's formula.
 * - Depth limit: the library splits while depth <= ceil(log2 psi), so leaves sit at depth
 *   <= ceil(log2 psi) + 1 (the paper stops one level earlier). We keep its trees as grown.
 *
 * Standardisation: a split is a uniform draw between the node's min and max of a uniformly chosen
 * column, so trees are invariant to a per-column affine map: standardising the training rows would
 * give the same partitions for the same random draws. We therefore grow on raw values and only
 * impute a missing value (NaN) by the column's mean over the training rows, at fit and at scoring.
 *
 * Compiled layout: per tree a padded complete binary tree of fixed depth D (children of node g at
 * 2g+1 and 2g+2): `feature` and `split` for the 2^D - 1 internal nodes, `leaf` (= real depth +
 * c(rows in the leaf)) for the 2^D bottom slots. A real leaf above the bottom is padded with
 * always-left nodes (split +Infinity) down to its leftmost bottom slot, so every walk is exactly D
 * branch-free steps.
 */
import { IsolationForest, IsolationTreeNode } from 'ml-isolation-forest';
import { createRng, Rng } from './seeded-random';

export const EULER_GAMMA = 0.5772156649015329;
export const DEFAULT_SAMPLE_SIZE = 256;
const BLOCK = 128;

/** Average path length of an unsuccessful search in a binary search tree of n points (the paper's c(n)). */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

export interface IsolationForestOptions {
  trees: number;
  seed: number;
  /** psi, default 256. */
  sampleSize?: number;
}

export class CompiledForest {
  /** c(psi): path lengths are normalised by it. */
  readonly normaliser: number;
  /** Internal nodes per tree: 2^depth - 1. */
  readonly internalPerTree: number;
  /** Bottom-level slots per tree: 2^depth. */
  readonly leavesPerTree: number;

  constructor(
    readonly trees: number,
    /** Every root-to-bottom walk is exactly this many steps (shallower leaves are padded). */
    readonly depth: number,
    readonly features: number,
    readonly sampleSize: number,
    /** Per internal node, tree-major: split column (0 on padding below a real leaf). */
    readonly feature: Int16Array,
    /** Per internal node: go right when x >= split (+Infinity on padding: always left). */
    readonly split: Float64Array,
    /** Per bottom slot: the real leaf's depth + c(rows that reached it). */
    readonly leaf: Float64Array,
    /** Per column: the value a missing (NaN) input takes. */
    readonly impute: Float64Array,
  ) {
    this.normaliser = averagePathLength(sampleSize);
    this.internalPerTree = 2 ** depth - 1;
    this.leavesPerTree = 2 ** depth;
  }

  /** Path length in tree t of the row at `offset` of `x` (finite, already imputed values). */
  treePathLength(t: number, x: ArrayLike<number>, offset = 0): number {
    const base = t * this.internalPerTree;
    let g = 0;
    for (let d = 0; d < this.depth; d++) {
      g = 2 * g + 1 + ((x[offset + this.feature[base + g]] >= this.split[base + g]) as unknown as number | 0);
    }
    return this.leaf[t * this.leavesPerTree + g - this.internalPerTree];
  }

  /** The paper's anomaly score s = 2^(-E[h(x)] / c(psi)) in (0, 1]; higher is more anomalous. */
  score(x: ArrayLike<number>): number {
    const row = new Float64Array(this.features);
    for (let f = 0; f < this.features; f++) row[f] = Number.isFinite(x[f]) ? x[f] : this.impute[f];
    let sum = 0;
    for (let t = 0; t < this.trees; t++) sum += this.treePathLength(t, row);
    return this.toScore(sum / this.trees);
  }

  /** s of one row (NaN = missing), allocation-free given a scratch from `newScratch()`. */
  scoreOne(x: ArrayLike<number>, scratch: ForestScratch): number {
    const row = scratch.block;
    for (let f = 0; f < this.features; f++) {
      const v = x[f];
      row[f] = v - v === 0 ? v : this.impute[f];
    }
    let sum = 0;
    for (let t = 0; t < this.trees; t++) sum += this.treePathLength(t, row);
    return this.toScore(sum / this.trees);
  }

  /**
   * Scores `rows` row-major rows of `data` (NaN = missing) into `out` (the paper's s). Allocation-free
   * given a scratch from `newScratch()`. The walk of one row is a chain of dependent loads, so eight
   * rows are walked side by side (independent chains the CPU overlaps); `| 0` on the comparison keeps
   * V8 from emitting an unpredictable branch per step.
   */
  scoreRows(data: Float64Array, rows: number, out: Float64Array, scratch: ForestScratch = this.newScratch()): void {
    const nf = this.features;
    const { block } = scratch;
    const impute = this.impute;
    for (let start = 0; start < rows; start += BLOCK) {
      const n = Math.min(BLOCK, rows - start);
      for (let r = 0; r < n; r++) {
        for (let f = 0; f < nf; f++) {
          const v = data[(start + r) * nf + f];
          block[r * nf + f] = v - v === 0 ? v : impute[f];
        }
      }
      let r = 0;
      for (; r + 8 <= n; r += 8) this.walk8(block, r * nf, out, start + r);
      for (; r < n; r++) {
        let sum = 0;
        for (let t = 0; t < this.trees; t++) sum += this.treePathLength(t, block, r * nf);
        out[start + r] = this.toScore(sum / this.trees);
      }
    }
  }

  private walk8(x: Float64Array, o: number, out: Float64Array, at: number): void {
    const feature = this.feature;
    const split = this.split;
    const leaf = this.leaf;
    const inner = this.internalPerTree;
    const leaves = this.leavesPerTree;
    const depth = this.depth;
    const nf = this.features;
    const o1 = o + nf, o2 = o1 + nf, o3 = o2 + nf, o4 = o3 + nf, o5 = o4 + nf, o6 = o5 + nf, o7 = o6 + nf;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    for (let t = 0; t < this.trees; t++) {
      const b = t * inner;
      let g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0;
      for (let d = 0; d < depth; d++) {
        g0 = 2 * g0 + 1 + ((x[o + feature[b + g0]] >= split[b + g0]) as unknown as number | 0);
        g1 = 2 * g1 + 1 + ((x[o1 + feature[b + g1]] >= split[b + g1]) as unknown as number | 0);
        g2 = 2 * g2 + 1 + ((x[o2 + feature[b + g2]] >= split[b + g2]) as unknown as number | 0);
        g3 = 2 * g3 + 1 + ((x[o3 + feature[b + g3]] >= split[b + g3]) as unknown as number | 0);
        g4 = 2 * g4 + 1 + ((x[o4 + feature[b + g4]] >= split[b + g4]) as unknown as number | 0);
        g5 = 2 * g5 + 1 + ((x[o5 + feature[b + g5]] >= split[b + g5]) as unknown as number | 0);
        g6 = 2 * g6 + 1 + ((x[o6 + feature[b + g6]] >= split[b + g6]) as unknown as number | 0);
        g7 = 2 * g7 + 1 + ((x[o7 + feature[b + g7]] >= split[b + g7]) as unknown as number | 0);
      }
      const lb = t * leaves - inner;
      a0 += leaf[lb + g0];
      a1 += leaf[lb + g1];
      a2 += leaf[lb + g2];
      a3 += leaf[lb + g3];
      a4 += leaf[lb + g4];
      a5 += leaf[lb + g5];
      a6 += leaf[lb + g6];
      a7 += leaf[lb + g7];
    }
    const k = this.trees;
    out[at] = this.toScore(a0 / k);
    out[at + 1] = this.toScore(a1 / k);
    out[at + 2] = this.toScore(a2 / k);
    out[at + 3] = this.toScore(a3 / k);
    out[at + 4] = this.toScore(a4 / k);
    out[at + 5] = this.toScore(a5 / k);
    out[at + 6] = this.toScore(a6 / k);
    out[at + 7] = this.toScore(a7 / k);
  }

  newScratch(): ForestScratch {
    return { block: new Float64Array(BLOCK * this.features) };
  }

  toScore(meanPathLength: number): number {
    return this.normaliser > 0 ? Math.pow(2, -meanPathLength / this.normaliser) : 0.5;
  }
}

export interface ForestScratch {
  block: Float64Array;
}

export interface FittedForest {
  forest: CompiledForest;
  /**
   * Out-of-bag score of each training row: s from only the trees whose subsample did not contain
   * it (NaN when no tree left it out). An unbiased stand-in for how a new normal row would score.
   */
  oobScores: Float64Array;
}

/** Subsample size for n available rows: psi, or half the rows while n < 2 psi (see the file comment). */
export function subsampleSize(n: number, psi = DEFAULT_SAMPLE_SIZE): number {
  return n >= 2 * psi ? psi : Math.max(2, Math.floor(n / 2));
}

/** Grows the forest on `rows` (each `features` raw values, NaN = missing). Deterministic in `seed`. */
export function fitIsolationForest(
  rows: readonly ArrayLike<number>[],
  features: number,
  options: IsolationForestOptions,
): FittedForest {
  const n = rows.length;
  if (n < 4) throw new Error(`an isolation forest needs at least 4 rows, got ${n}`);
  if (!Number.isInteger(options.trees) || options.trees < 1) throw new Error(`trees must be a positive integer, got ${options.trees}`);
  if (features < 1 || features > 32767) throw new Error(`features must be from 1 to 32767, got ${features}`);

  const impute = columnMeans(rows, features);
  const data = new Float64Array(n * features);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    for (let f = 0; f < features; f++) {
      const v = r[f];
      data[i * features + f] = Number.isFinite(v) ? v : impute[f];
    }
  }

  const psi = subsampleSize(n, options.sampleSize ?? DEFAULT_SAMPLE_SIZE);
  // The library splits while depth <= ceil(log2 psi), so real leaves sit at depth <= that + 1.
  const depth = Math.ceil(Math.log2(psi)) + 1;
  const inner = 2 ** depth - 1;
  const leaves = 2 ** depth;
  const trees = options.trees;
  const feature = new Int16Array(trees * inner);
  const split = new Float64Array(trees * inner);
  const leaf = new Float64Array(trees * leaves);
  const inBag = new Uint8Array(trees * n);
  const rng = createRng(options.seed);
  const indices = new Int32Array(n);

  const saved = Math.random;
  try {
    Math.random = rng;
    for (let t = 0; t < trees; t++) {
      const sample = drawSubsample(rng, n, psi, indices);
      const training: number[][] = new Array(psi);
      for (let k = 0; k < psi; k++) {
        const i = sample[k];
        inBag[t * n + i] = 1;
        // A plain array, as the library expects (Array.from over a typed array is several times slower).
        const row = new Array<number>(features);
        for (let f = 0; f < features; f++) row[f] = data[i * features + f];
        training[k] = row;
      }
      const grower = new IsolationForest({ nEstimators: 1 });
      grower.train(training);
      compileTree(grower.forest[0], { base: t * inner, leafBase: t * leaves - inner, depth, feature, split, leaf }, 0, 0);
    }
  } finally {
    Math.random = saved;
  }

  const forest = new CompiledForest(trees, depth, features, psi, feature, split, leaf, impute);
  return { forest, oobScores: outOfBagScores(forest, data, n, inBag) };
}

function columnMeans(rows: readonly ArrayLike<number>[], features: number): Float64Array {
  const sum = new Float64Array(features);
  const count = new Float64Array(features);
  for (const r of rows) {
    for (let f = 0; f < features; f++) {
      const v = r[f];
      if (Number.isFinite(v)) {
        sum[f] += v;
        count[f]++;
      }
    }
  }
  return sum.map((s, f) => (count[f] > 0 ? s / count[f] : 0));
}

/** First k of a partial Fisher-Yates shuffle of 0..n-1 (indices reset each call). */
function drawSubsample(rng: Rng, n: number, k: number, indices: Int32Array): Int32Array {
  for (let i = 0; i < n; i++) indices[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng() * (n - i));
    const tmp = indices[i];
    indices[i] = indices[j];
    indices[j] = tmp;
  }
  return indices.subarray(0, k);
}

interface TreeLayout {
  base: number;
  /** leaf[leafBase + g] is the bottom slot of global node index g (g >= 2^depth - 1). */
  leafBase: number;
  depth: number;
  feature: Int16Array;
  split: Float64Array;
  leaf: Float64Array;
}

function compileTree(node: IsolationTreeNode, layout: TreeLayout, g: number, depth: number): void {
  if (node.left && node.right) {
    if (depth >= layout.depth) throw new Error(`isolation tree deeper than ${layout.depth}`);
    layout.feature[layout.base + g] = node.splitColumn as number;
    layout.split[layout.base + g] = node.splitValue as number;
    compileTree(node.left, layout, 2 * g + 1, depth + 1);
    compileTree(node.right, layout, 2 * g + 2, depth + 1);
    return;
  }
  // A real leaf above the bottom: pad with always-left nodes down to its leftmost bottom slot.
  const value = depth + averagePathLength(node.trainingSet?.length ?? 0);
  let d = depth;
  while (d < layout.depth) {
    layout.feature[layout.base + g] = 0;
    layout.split[layout.base + g] = Infinity;
    g = 2 * g + 1;
    d++;
  }
  layout.leaf[layout.leafBase + g] = value;
}

function outOfBagScores(forest: CompiledForest, data: Float64Array, n: number, inBag: Uint8Array): Float64Array {
  const sum = new Float64Array(n);
  const count = new Uint16Array(n);
  // This runs on every fit, and a fit holds up the batches that wait for the new window's forest:
  // `treePathLength` inlined with everything in locals, four rows walked side by side (independent
  // loads overlap, as in `walk8`), in-bag rows walked too and left out when summing. Each row's sum
  // still adds its trees in order, so the scores are the same to the last bit.
  const { feature, split, leaf, depth, features: nf, internalPerTree: inner, leavesPerTree: leaves } = forest;
  const full = n - (n % 4);
  for (let t = 0; t < forest.trees; t++) {
    const base = t * inner;
    const leafBase = t * leaves - inner;
    const bag = t * n;
    for (let i = 0; i < full; i += 4) {
      const o0 = i * nf, o1 = o0 + nf, o2 = o1 + nf, o3 = o2 + nf;
      let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
      for (let d = 0; d < depth; d++) {
        g0 = 2 * g0 + 1 + ((data[o0 + feature[base + g0]] >= split[base + g0]) as unknown as number | 0);
        g1 = 2 * g1 + 1 + ((data[o1 + feature[base + g1]] >= split[base + g1]) as unknown as number | 0);
        g2 = 2 * g2 + 1 + ((data[o2 + feature[base + g2]] >= split[base + g2]) as unknown as number | 0);
        g3 = 2 * g3 + 1 + ((data[o3 + feature[base + g3]] >= split[base + g3]) as unknown as number | 0);
      }
      if (!inBag[bag + i]) (sum[i] += leaf[leafBase + g0]), count[i]++;
      if (!inBag[bag + i + 1]) (sum[i + 1] += leaf[leafBase + g1]), count[i + 1]++;
      if (!inBag[bag + i + 2]) (sum[i + 2] += leaf[leafBase + g2]), count[i + 2]++;
      if (!inBag[bag + i + 3]) (sum[i + 3] += leaf[leafBase + g3]), count[i + 3]++;
    }
    for (let i = full; i < n; i++) {
      if (inBag[bag + i]) continue;
      const o = i * nf;
      let g = 0;
      for (let d = 0; d < depth; d++) g = 2 * g + 1 + ((data[o + feature[base + g]] >= split[base + g]) as unknown as number | 0);
      sum[i] += leaf[leafBase + g];
      count[i]++;
    }
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = count[i] > 0 ? forest.toScore(sum[i] / count[i]) : NaN;
  return out;
}
