// Bundles src/editor.js and src/submission.js into static/js/ (minified IIFEs, ES2019).
// Run from anywhere: `npm --prefix app/frontend ci && npm --prefix app/frontend run build`.
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const options = {
  absWorkingDir: here,
  entryPoints: { editor: "src/editor.js", submission: "src/submission.js" },
  outdir: path.join(here, "..", "..", "static", "js"),
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2019"],
  platform: "browser",
  legalComments: "eof",
  charset: "utf8",
  logLevel: "info",
};

if (process.argv.includes("--watch")) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}
