// The API reference page in headless Chromium: it loads with no request but its own and no
// failed request, shows an anchored section for every operationId of the spec, and is
// photographed (target/docs.png).
// Usage: node docs-browser.mjs BASE_URL SCREENSHOT, from beside a node_modules holding
// playwright-core (scripts/docs-browser.sh arranges it).
import { chromium } from "playwright-core";

const [base, screenshot] = process.argv.slice(2);
const spec = await (await fetch(`${base}/openapi.yaml`)).text();
const ids = [...spec.matchAll(/^\s+operationId:\s*(\S+)\s*$/gm)].map((m) => m[1]);
if (ids.length === 0) throw new Error("no operationId in the served spec");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("requestfailed", (request) =>
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  const response = await page.goto(`${base}/docs`, { waitUntil: "load" });
  if (response?.status() !== 200) problems.push(`GET /docs answered ${response?.status()}`);
  for (const url of requests) {
    if (url !== `${base}/docs`) problems.push(`the page fetched ${url}`);
  }
  const found = await page.$$eval("article.operation", (articles) => articles.map((a) => a.id));
  for (const id of ids) {
    if (!found.includes(id)) problems.push(`no section for operationId ${id}`);
    const linked = await page.$(`nav a[href="#${id}"]`);
    if (!linked) problems.push(`the index does not link ${id}`);
  }
  // Following an operation's link scrolls to its section.
  await page.click(`nav a[href="#${ids[0]}"]`);
  const visible = await page.$eval(`#${ids[0]}`, (element) => {
    const box = element.getBoundingClientRect();
    return box.top >= 0 && box.top < window.innerHeight;
  });
  if (!visible) problems.push(`#${ids[0]} is not in view after following its link`);
  await page.screenshot({ path: screenshot, fullPage: false });
  console.log(`${found.length} operation sections, ${requests.length} request(s), screenshot ${screenshot}`);
} finally {
  await browser.close();
}
for (const problem of problems) console.log(problem);
process.exit(problems.length === 0 ? 0 : 1);
