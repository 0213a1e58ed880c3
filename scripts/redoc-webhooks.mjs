// Redoc renders the spec's webhooks: the spec is loaded into Redoc's standalone bundle (from
// the npm package, no network) in headless Chromium, and every webhook of `x-webhooks` must
// appear, by its summary or name, marked as a webhook (Redoc's "Webhook" badge).
// Usage: node redoc-webhooks.mjs SPEC.json REDOC_STANDALONE_JS SCREENSHOT, from beside a
// node_modules holding playwright-core (scripts/docs-browser.sh arranges it).
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [specPath, bundle, screenshot] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specPath, "utf8"));
const webhooks = Object.entries(spec["x-webhooks"] ?? {});
if (webhooks.length === 0) throw new Error("the spec has no x-webhooks");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  // Nothing leaves the machine: every request but the page's own is refused.
  await page.route("**/*", (route) => route.abort());
  await page.setContent('<!doctype html><html><body><div id="redoc"></div></body></html>');
  await page.addScriptTag({ content: readFileSync(bundle, "utf8") });
  await page.evaluate(
    (doc) =>
      new Promise((resolve, reject) => {
        window.Redoc.init(doc, { expandResponses: "all" }, document.getElementById("redoc"),
          (error) => (error ? reject(new Error(String(error))) : resolve()));
      }),
    spec,
  );
  const text = await page.evaluate(() => document.body.innerText);
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  for (const [name, item] of webhooks) {
    const label = item.post?.summary ?? name;
    if (!new RegExp(`${escape(label)}\\s*Webhook`).test(text)) {
      problems.push(`webhook ${name} (${label}) is not rendered as a webhook`);
    }
  }
  const menu = await page.$$eval("[role=menuitem], li", (items) => items.map((i) => i.textContent));
  await page.screenshot({ path: screenshot, fullPage: false });
  console.log(`Redoc rendered ${webhooks.length} webhook(s) among ${menu.length} menu items; screenshot ${screenshot}`);
} finally {
  await browser.close();
}
for (const problem of problems) console.log(problem);
process.exit(problems.length === 0 ? 0 : 1);
