/** The WebAssembly bytes of a WAT text (wabt, with names left out so the bytes depend on the code alone). */
export function compileKernels(wat: string): Promise<Uint8Array>;
