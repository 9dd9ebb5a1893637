import { createRequire } from 'node:module';
import type { onnx as OnnxNamespace } from 'onnx-proto';

// onnx-proto is a CommonJS protobufjs module; load it the way Node shares it with CommonJS callers.
const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto') as { onnx: typeof OnnxNamespace };

export { onnx };

/** A dimension: a fixed size or a symbolic name (`batch_size`, `sequence_length`). */
export type Dimension = number | string;

export type ElementType = 'float' | 'int64' | 'bool';

const elementTypes: Record<ElementType, number> = {
  float: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

export function valueInfo(name: string, type: ElementType, shape: Dimension[]): OnnxNamespace.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: elementTypes[type],
        shape: { dim: shape.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): OnnxNamespace.ITensorProto {
  const size = dims.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new Error(`tensor ${name}: ${values.length} values for shape [${dims.join(', ')}]`);
  const bytes = new Uint8Array(Float32Array.from(values).buffer);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes };
}

export function int64Tensor(name: string, dims: number[], values: number[]): OnnxNamespace.ITensorProto {
  const bytes = new Uint8Array(BigInt64Array.from(values.map((value) => BigInt(value))).buffer);
  return { name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: bytes };
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, number | number[]> = {},
): OnnxNamespace.INodeProto {
  return {
    opType,
    input: inputs,
    output: outputs,
    name: `${opType}_${outputs[0]}`,
    attribute: Object.entries(attributes).map(([name, value]) =>
      Array.isArray(value)
        ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: value }
        : Number.isInteger(value)
          ? { name, type: onnx.AttributeProto.AttributeType.INT, i: value }
          : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value },
    ),
  };
}

/** Serialises a one-graph model (default opset 13, IR version 8). */
export function encodeModel(graph: {
  name: string;
  nodes: OnnxNamespace.INodeProto[];
  inputs: OnnxNamespace.IValueInfoProto[];
  outputs: OnnxNamespace.IValueInfoProto[];
  initializers: OnnxNamespace.ITensorProto[];
  opset?: number;
}): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: '@prompt2model/testing',
    opsetImport: [{ domain: '', version: graph.opset ?? 13 }],
    graph: {
      name: graph.name,
      node: graph.nodes,
      input: graph.inputs,
      output: graph.outputs,
      initializer: graph.initializers,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

