import wabtInit from 'wabt';

/** The WebAssembly bytes of a WAT text (wabt, with names left out so the bytes depend on the code alone). */
export async function compileKernels(wat) {
  const wabt = await wabtInit();
  const module = wabt.parseWat('kernels.wat', wat);
  try {
    module.validate();
    return new Uint8Array(module.toBinary({ write_debug_names: false }).buffer);
  } finally {
    module.destroy();
  }
}
