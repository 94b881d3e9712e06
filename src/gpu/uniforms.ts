/**
 * Uniform blocks declared once by name: a kernel lists its fields, and both the WGSL declaration
 * and the packing of the values come from that one list, so the two cannot disagree (the
 * `registerUniform` idea of onnxruntime-web's WebGPU kernels, FSR 2's single constants block).
 * Fields are 4-byte scalars (u32 or f32), laid out in declaration order without padding; the
 * kernel runtime pads the block to 16 bytes.
 *
 *   const PARAMS = uniformBlock({ width: 'u32', height: 'u32', exposure: 'f32' });
 *   const code = `${PARAMS.wgsl} ... u.width ...`;
 *   kernel.dispatch(pass, groups, buffers, PARAMS.pack({ width, height, exposure }));
 */

export type UniformType = 'u32' | 'f32';
export type UniformFields = Readonly<Record<string, UniformType>>;

/** One value per field: numbers, or booleans for u32 flags (true = 1). */
export type UniformValues<F extends UniformFields> = { readonly [K in keyof F]: number | boolean };

export interface UniformBlock<F extends UniformFields> {
  readonly fields: F;
  /** WGSL: `struct Params { … }` and its binding, `@group(0) @binding(0) var<uniform> u`. */
  readonly wgsl: string;
  /** The block's bytes for these values. */
  pack(values: UniformValues<F>): ArrayBuffer;
}

/** Declares a uniform block; its WGSL names it `u` at @binding(0). */
export function uniformBlock<const F extends UniformFields>(fields: F): UniformBlock<F> {
  const names = Object.keys(fields);
  const declarations = names.map((name) => `  ${name}: ${fields[name]},`).join('\n');
  return {
    fields,
    wgsl: `struct Params {\n${declarations}\n}\n@group(0) @binding(0) var<uniform> u: Params;`,
    pack(values) {
      const buffer = new ArrayBuffer(names.length * 4);
      const view = new DataView(buffer);
      names.forEach((name, i) => {
        const value = (values as Record<string, number | boolean | undefined>)[name];
        if (value === undefined) throw new RangeError(`uniform ${name} is missing`);
        if (fields[name] === 'u32') view.setUint32(i * 4, Number(value), true);
        else view.setFloat32(i * 4, Number(value), true);
      });
      return buffer;
    },
  };
}
