// Compiles src/kernels.wat into src/kernels-wasm.ts (the module's bytes, base64), which is
// committed: installing or running the package needs no WebAssembly toolchain. The kernels test
// fails when the two disagree. Run: npm run build:wasm -w @prompt2model/bm25
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileKernels } from './compile-wasm.mjs';

const source = fileURLToPath(new URL('../src/kernels.wat', import.meta.url));
const target = fileURLToPath(new URL('../src/kernels-wasm.ts', import.meta.url));
const bytes = await compileKernels(readFileSync(source, 'utf8'));
writeFileSync(
  target,
  `// Generated from kernels.wat by scripts/build-wasm.mjs: do not edit (${bytes.length} bytes).\nexport const KERNELS_WASM_BASE64 =\n  '${Buffer.from(bytes).toString('base64')}';\n`,
);
console.log(`wrote ${target} (${bytes.length} bytes of WebAssembly)`);
