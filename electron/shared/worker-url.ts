/**
 * The URL of a worker module that sits beside `fromUrl`: same extension as the caller, so workers start from the
 * TypeScript sources under tsx (tests, benchmarks) and from the compiled JavaScript in dist/.
 */
export function siblingModuleUrl(fromUrl: string, baseName: string): URL {
  const extension = fromUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${baseName}${extension}`, fromUrl);
}
