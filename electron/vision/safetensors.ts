/**
 * A reader for the `.safetensors` format (8-byte little-endian header length, a JSON header, then raw little-endian
 * tensor data), written here because the format is tiny and a reader must refuse bad files with a clear reason
 * rather than crash or allocate gigabytes. Tensors are read one at a time straight into their own Float32Array, so
 * a 550 MB file is never held twice.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { describeFsError, SortaError } from '../shared/errors.js';

/** Every dtype the format defines, with its size in bytes; only the float ones can be read as Float32Array. */
const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;
/**
 * A header entry's dtype. Files may hold integer buffers (`num_batches_tracked` is I64), so the header accepts every
 * dtype the format defines; reading one that is not F32/F16/BF16 as floats is refused.
 */
export type SafetensorsDtype = keyof typeof DTYPE_BYTES;
export const FLOAT_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type FloatDtype = (typeof FLOAT_DTYPES)[number];

export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets relative to the start of the data section (`dataOffset`), end exclusive. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  path: string;
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Absolute file offset of the data section: 8 + header length. */
  dataOffset: number;
  fileSize: number;
}

export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

/** The reference implementation refuses headers over 100 MB; a real header is a few kB. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function invalid(path: string, problem: string): SortaError {
  return new SortaError('invalid-weights', `weights file ${path}: ${problem}`);
}

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw new SortaError('not-found', `weights file ${path}: ${describeFsError(error)}`, { cause: error });
  }
}

async function readExactly(handle: FileHandle, target: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < target.length) {
    // A single read may return fewer bytes than asked (and reads over 2 GiB are refused), so loop in chunks.
    const length = Math.min(target.length - done, 1 << 30);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

/** Reads and checks the header only: no tensor data is touched, so this is cheap on a 550 MB file. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const handle = await openFile(path);
  try {
    const fileSize = (await stat(path)).size;
    return await parseHeader(handle, path, fileSize);
  } finally {
    await handle.close();
  }
}

async function parseHeader(handle: FileHandle, path: string, fileSize: number): Promise<SafetensorsHeader> {
  if (fileSize < 8) throw invalid(path, `not a safetensors file (only ${fileSize} bytes)`);
  const prefix = new Uint8Array(9);
  await readExactly(handle, prefix.subarray(0, Math.min(9, fileSize)), 0);
  const headerLength = Number(new DataView(prefix.buffer).getBigUint64(0, true));
  // A safetensors header is a JSON object, so its first byte is '{'; anything else is another kind of file.
  const looksLikeJson = fileSize > 8 && prefix[8] === 0x7b;
  if (!looksLikeJson || headerLength < 2 || headerLength > MAX_HEADER_BYTES)
    throw invalid(path, 'not a safetensors file (no valid header at the start)');
  if (8 + headerLength > fileSize)
    throw invalid(path, `truncated: the header needs ${8 + headerLength} bytes but the file has ${fileSize}`);

  const headerBytes = new Uint8Array(headerLength);
  await readExactly(handle, headerBytes, 8);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw invalid(path, `header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw invalid(path, 'header is not a JSON object');

  const dataOffset = 8 + headerLength;
  const dataSize = fileSize - dataOffset;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  let maxEnd = 0;
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value === 'object' && value !== null) metadata = value as Record<string, string>;
      continue;
    }
    const entry = checkEntry(path, name, value);
    if (entry.end > maxEnd) maxEnd = entry.end;
    tensors.set(name, entry);
  }
  if (maxEnd > dataSize)
    throw invalid(
      path,
      `truncated: tensor data needs ${dataOffset + maxEnd} bytes but the file has ${fileSize}`,
    );
  return { path, tensors, metadata, dataOffset, fileSize };
}

function checkEntry(path: string, name: string, value: unknown): SafetensorsEntry {
  const raw = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
  if (typeof raw !== 'object' || raw === null) throw invalid(path, `header entry '${name}' is not an object`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype))
    throw invalid(path, `tensor '${name}' has unsupported dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw invalid(path, `tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  )
    throw invalid(path, `tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const [begin, end] = offsets as [number, number];
  const itemSize = DTYPE_BYTES[dtype as SafetensorsDtype];
  if (end - begin !== elements * itemSize)
    throw invalid(
      path,
      `tensor '${name}' has ${end - begin} bytes but shape [${shape.join(', ')}] of ${dtype} needs ` +
        `${elements * itemSize}`,
    );
  return { dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end };
}

/**
 * Reads tensors (all of them, or `names`) as Float32Array, converting F16 and BF16. Each tensor is read into its own
 * buffer, one after another, so peak memory is the result plus at most one conversion chunk.
 */
export async function readSafetensorsTensors(
  path: string,
  names?: Iterable<string>,
): Promise<Map<string, FloatTensor>> {
  const handle = await openFile(path);
  try {
    const header = await parseHeader(handle, path, (await handle.stat()).size);
    return await readTensorsFrom(handle, header, names ?? header.tensors.keys());
  } finally {
    await handle.close();
  }
}

/** Like readSafetensorsTensors, with a header already read (callers that validated it first avoid a re-parse). */
export async function readTensorsWithHeader(
  header: SafetensorsHeader,
  names: Iterable<string>,
): Promise<Map<string, FloatTensor>> {
  const handle = await openFile(header.path);
  try {
    const size = (await handle.stat()).size;
    if (size !== header.fileSize)
      throw invalid(header.path, `changed while being read (${header.fileSize} → ${size} bytes)`);
    return await readTensorsFrom(handle, header, names);
  } finally {
    await handle.close();
  }
}

async function readTensorsFrom(
  handle: FileHandle,
  header: SafetensorsHeader,
  names: Iterable<string>,
): Promise<Map<string, FloatTensor>> {
  if (endianness() !== 'LE')
    throw new SortaError('unsupported', 'reading safetensors needs a little-endian machine');
  const wanted = [...names].map((name) => {
    const entry = header.tensors.get(name);
    if (!entry) throw invalid(header.path, `has no tensor '${name}'`);
    if (!(FLOAT_DTYPES as readonly string[]).includes(entry.dtype))
      throw invalid(
        header.path,
        `tensor '${name}' has unsupported dtype ${entry.dtype} (need F32, F16 or BF16)`,
      );
    return [name, entry] as const;
  });
  // File order keeps the reads sequential, which matters on spinning disks and network drives.
  wanted.sort((a, b) => a[1].begin - b[1].begin);
  const result = new Map<string, FloatTensor>();
  for (const [name, entry] of wanted) {
    try {
      result.set(name, { shape: [...entry.shape], data: await readTensor(handle, header, entry) });
    } catch (error) {
      if (error instanceof SortaError) throw error;
      throw invalid(header.path, `could not read tensor '${name}': ${describeFsError(error)}`);
    }
  }
  return result;
}

/** Elements converted per read for F16/BF16, so the half-precision staging buffer stays small (16 MB). */
const CONVERT_CHUNK = 8 * 1024 * 1024;

async function readTensor(handle: FileHandle, header: SafetensorsHeader, entry: SafetensorsEntry) {
  const count = (entry.end - entry.begin) / DTYPE_BYTES[entry.dtype];
  const out = new Float32Array(count);
  const position = header.dataOffset + entry.begin;
  if (entry.dtype === 'F32') {
    // Read straight into the Float32Array's memory: the file's offsets need not be 4-aligned, ours is.
    await readExactly(handle, new Uint8Array(out.buffer), position);
    return out;
  }
  const staging = new Uint16Array(Math.min(count, CONVERT_CHUNK));
  for (let start = 0; start < count; start += staging.length) {
    const n = Math.min(staging.length, count - start);
    const chunk = staging.subarray(0, n);
    await readExactly(handle, new Uint8Array(chunk.buffer, 0, n * 2), position + start * 2);
    if (entry.dtype === 'BF16') bf16ToF32(chunk, out, start);
    else f16ToF32(chunk, out, start);
  }
  return out;
}

/** bfloat16 is the top half of a float32, so widening is a 16-bit shift. */
function bf16ToF32(source: Uint16Array, target: Float32Array, offset: number): void {
  const bits = new Uint32Array(target.buffer, target.byteOffset + offset * 4, source.length);
  for (let i = 0; i < source.length; i++) bits[i] = source[i] << 16;
}

let halfTable: Float32Array | undefined;

/** IEEE half → float through a 65536-entry table (256 kB, built once): exact, including subnormals, inf and NaN. */
function f16ToF32(source: Uint16Array, target: Float32Array, offset: number): void {
  halfTable ??= buildHalfTable();
  const table = halfTable;
  for (let i = 0; i < source.length; i++) target[offset + i] = table[source[i]];
}

function buildHalfTable(): Float32Array {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) table[h] = mantissa ? NaN : sign * Infinity;
    else table[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return table;
}

/** Writes a safetensors file (tests, benchmarks and the fine-tune export use it); F32 only. */
export function encodeSafetensors(
  tensors: Map<string, FloatTensor> | [string, FloatTensor][],
  metadata?: Record<string, string>,
): Buffer[] {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const parts: Buffer[] = [];
  for (const [name, tensor] of tensors) {
    const bytes = tensor.data.byteLength;
    header[name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    parts.push(Buffer.from(tensor.data.buffer, tensor.data.byteOffset, bytes));
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  // Pad with spaces so the data section starts 8-aligned, as the reference writer does.
  const jsonBytes = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(jsonBytes.length));
  return [length, jsonBytes, ...parts];
}
