// Reads the unit and browser test reports and prints one closing `N passed, N failed` line;
// fails when a report is missing, any test failed or was skipped, or none ran.
import { readFileSync } from 'node:fs';

function load(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    console.error(`missing test report ${path}: ${error.message}`);
    process.exit(1);
  }
}

const unit = load('test-results/unit.json');
const browser = load('test-results/browser.json');
const tiers = {
  unit: {
    passed: unit.numPassedTests,
    failed: unit.numFailedTests,
    skipped: unit.numPendingTests + unit.numTodoTests,
  },
  browser: {
    passed: browser.stats.expected + browser.stats.flaky,
    failed: browser.stats.unexpected,
    skipped: browser.stats.skipped,
  },
};
let ok = true;
for (const [name, t] of Object.entries(tiers)) {
  console.log(`${name}: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
  if (t.passed === 0 || t.failed > 0 || t.skipped > 0) ok = false;
}
const passed = tiers.unit.passed + tiers.browser.passed;
const failed = tiers.unit.failed + tiers.browser.failed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
