/**
 * Types for ml-isolation-forest 0.1.0, which ships none. Only what `isolation-forest.ts` reads:
 * the trees it grows are plain objects (`forest[]` of nodes with `left`/`right`, `splitColumn`,
 * `splitValue`, and at a leaf the `trainingSet` rows that reached it).
 */
declare module 'ml-isolation-forest' {
  export interface IsolationTreeNode {
    depth?: number;
    maxDepth?: number;
    left?: IsolationTreeNode;
    right?: IsolationTreeNode;
    splitColumn?: number;
    splitValue?: number;
    trainingSet?: number[][];
  }

  export class IsolationForest {
    constructor(options?: { nEstimators?: number });
    nEstimators: number;
    forest: IsolationTreeNode[];
    trainingSet: number[][];
    train(trainingSet: number[][]): void;
    /** The paper's score in (0, 1), higher is more anomalous. */
    predict(data: number[][]): number[];
  }
}
