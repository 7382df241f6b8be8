// A Node module hook for renderer state classes (`*.svelte.ts`): strips the types with TypeScript, then compiles
// the runes ($state, $derived) with Svelte's own compiler, as Vite does for the app. Register it with
// `register('./svelte-runes-loader.mjs', import.meta.url)` and import the classes dynamically afterwards.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compileModule } from 'svelte/compiler';
import ts from 'typescript';

export async function load(url, context, nextLoad) {
  if (!/\.svelte\.ts$/.test(new URL(url).pathname)) return nextLoad(url, context);
  const filename = fileURLToPath(url);
  const source = await readFile(filename, 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
    },
    fileName: filename,
  }).outputText;
  const compiled = compileModule(js, {
    filename: filename.replace(/\.ts$/, '.js'),
    generate: 'client',
    dev: false,
  });
  return { format: 'module', source: compiled.js.code, shortCircuit: true };
}
