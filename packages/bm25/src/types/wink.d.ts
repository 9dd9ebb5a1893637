// Minimal typings for wink-bm25-text-search (it ships none). Only what this package uses; the other
// wink modules (stemmer, stop words) are loaded with require() in text-prep.ts.
declare module 'wink-bm25-text-search' {
  type PrepTask = (input: any) => any;
  interface Bm25Engine {
    defineConfig(config: {
      fldWeights: Record<string, number>;
      bm25Params?: { k1?: number; b?: number; k?: number };
      ovFldNames?: string[];
    }): boolean;
    definePrepTasks(tasks: PrepTask[], field?: string): number;
    addDoc(doc: Record<string, string>, id: string | number): number;
    consolidate(fp?: number): boolean;
    search(text: string, limit?: number, filter?: (fieldValues: Record<string, unknown>, params: unknown) => boolean, params?: unknown): Array<[string, number]>;
    exportJSON(): string;
    importJSON(json: string): boolean;
    getTotalDocs(): number;
    getTokens(): Record<string, number>;
    getDocs(): Record<string, { freq: Record<string, number>; length: number }>;
    reset(): boolean;
  }
  function bm25(): Bm25Engine;
  export default bm25;
}
