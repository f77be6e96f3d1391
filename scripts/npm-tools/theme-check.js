// Shopify's theme-check (@shopify/theme-check-node) on one theme app extension; prints the
// offenses as JSON and exits 1 when there is any. Usage: node theme-check.js <extension dir>
"use strict";
const path = require("path");
const { check } = require("@shopify/theme-check-node");

async function main() {
  const root = path.resolve(process.argv[2]);
  // The extension's own config, when there is one; else the theme app extension preset.
  const config = process.argv[3] || "theme-check:theme-app-extension";
  const offenses = await check(root, config);
  const report = offenses.map((offense) => ({
    check: offense.check,
    severity: offense.severity,
    file: path.relative(root, offense.uri.replace("file://", "")),
    message: offense.message,
  }));
  process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  process.exit(report.length ? 1 : 0);
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(2);
});
