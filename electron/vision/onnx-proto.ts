/**
 * The part of ONNX's protobuf schema (onnx/onnx.proto, IR version 8) that a plain feed-forward graph needs, with
 * ONNX's own field numbers, compiled at runtime by protobufjs. Embedding these few messages keeps us off the
 * unmaintained `onnx-proto` package; field numbers are what make the bytes ONNX, so they are copied exactly.
 */
import protobuf from 'protobufjs';

const ONNX_SUBSET = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
  }
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  optional string doc_string = 13;
  optional AttributeType type = 20;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
  optional string domain = 7;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType { UNDEFINED = 0; FLOAT = 1; INT64 = 7; }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  optional string doc_string = 12;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

const root = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root;
export const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType values we use. */
export const FLOAT = 1;
export const INT64 = 7;
/** AttributeProto.AttributeType values we use. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

export interface OnnxNode {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: object[];
}

export function node(
  opType: string,
  name: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, number | number[]> = {},
  floatAttributes: Record<string, number> = {},
): OnnxNode {
  const attribute: object[] = Object.entries(attributes).map(([key, value]) =>
    Array.isArray(value)
      ? { name: key, type: ATTR_INTS, ints: value }
      : { name: key, type: ATTR_INT, i: value },
  );
  for (const [key, value] of Object.entries(floatAttributes))
    attribute.push({ name: key, type: ATTR_FLOAT, f: value });
  return { op_type: opType, name, input: inputs, output: outputs, attribute };
}

/** A float initializer whose raw_data views the Float32Array's memory (no copy until the model is encoded). */
export function floatInitializer(name: string, dims: number[], data: Float32Array): object {
  if (data.length !== dims.reduce((a, b) => a * b, 1))
    throw new Error(`initializer ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
  return {
    name,
    dims,
    data_type: FLOAT,
    // A Buffer view (no copy): protobufjs copies Buffers with one memcpy, plain Uint8Arrays byte by byte.
    raw_data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  };
}

export function int64Initializer(name: string, values: number[]): object {
  return { name, dims: [values.length], data_type: INT64, int64_data: values };
}

/** A float tensor value-info; a string dim is symbolic (the batch). */
export function tensorValueInfo(name: string, dims: (number | string)[]): object {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: FLOAT,
        shape: {
          dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })),
        },
      },
    },
  };
}

/**
 * Serialises a ModelProto-shaped plain object (checked against the schema first). `sizeHint` (the initializers'
 * bytes) pre-sizes the writer: growing it by doubling would copy 550 MB of weights several times and could leave
 * a 1 GB backing buffer; sized up front, the weights are copied once (plus one shift per length prefix), and the
 * result is a view of the writer's buffer rather than another copy.
 */
export function encodeModel(model: object, sizeHint = 0): Uint8Array {
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`ONNX model does not fit the schema: ${problem}`);
  const writer = protobuf.Writer.create();
  if (sizeHint > 0) writer.buf = Buffer.allocUnsafe(sizeHint + (1 << 20));
  return ModelProto.encode(ModelProto.fromObject(model), writer).finish(true);
}

export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Array }) as Record<
    string,
    unknown
  >;
}
