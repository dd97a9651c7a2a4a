// Loads every page a test names in Debian's Chromium with JavaScript disabled, checks its
// status and that its rendered text holds the key content, writes a full-page screenshot (and
// one at a phone's width), then runs axe-core on it in a second context (axe is itself a
// script; the pages carry none) and fails on any serious or critical violation.
//
// Usage: node check-pages.mjs <pages.json> <screenshot dir>
//   pages.json: {"base": "http://127.0.0.1:port", "pages": [{"name", "path", "status", "expect": [text…]}]}
// Environment: CHROMIUM (default /usr/bin/chromium).
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const [specPath, outDir] = process.argv.slice(2);
if (!specPath || !outDir) {
  console.error("usage: node check-pages.mjs <pages.json> <screenshot dir>");
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specPath, "utf8"));
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // CI runs as root, where Chromium's sandbox cannot start.
  args: ["--no-sandbox"],
});
const failures = [];
try {
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const phone = await browser.newContext({
    javaScriptEnabled: false,
    viewport: { width: 390, height: 844 },
  });
  const audit = await browser.newContext({ javaScriptEnabled: true });
  for (const p of spec.pages) {
    const url = spec.base + p.path;
    const page = await noScript.newPage();
    const response = await page.goto(url);
    const status = response ? response.status() : 0;
    if (status !== p.status) failures.push(`${p.path}: status ${status}, expected ${p.status}`);
    const text = await page.innerText("body");
    for (const needle of p.expect) {
      if (!text.includes(needle)) failures.push(`${p.path}: the rendered page lacks ${JSON.stringify(needle)}`);
    }
    const scripts = await page.locator("script").count();
    if (scripts !== 0) failures.push(`${p.path}: ${scripts} script elements`);
    await page.screenshot({ path: join(outDir, `${p.name}.png`), fullPage: true });
    await page.close();

    const small = await phone.newPage();
    await small.goto(url);
    // Readable on a phone: nothing wider than the screen but the scrolling tables and code.
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth);
    if (overflow > 390 + 1) failures.push(`${p.path}: ${overflow} px wide at a 390 px viewport`);
    await small.screenshot({ path: join(outDir, `${p.name}-phone.png`), fullPage: true });
    await small.close();

    const checked = await audit.newPage();
    await checked.goto(url);
    await checked.addScriptTag({ content: axeSource });
    const result = await checked.evaluate(async () => await globalThis.axe.run());
    for (const v of result.violations) {
      if (v.impact === "serious" || v.impact === "critical") {
        failures.push(`${p.path}: axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
      }
    }
    console.log(`${p.path}: ${status}, ${p.expect.length} texts checked, axe: ${result.violations.length} violations (${result.passes.length} rules passed)`);
    await checked.close();
  }
} finally {
  await browser.close();
}
if (failures.length > 0) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log(`all ${spec.pages.length} pages passed`);
