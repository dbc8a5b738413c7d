// A Jest reporter that records the run's totals as one plain line,
// `jest: N passed, N failed, N skipped` — the closing line CI reads in any language.
// scripts/jest.js prints it after Jest exits, so it is the last line of the run.
'use strict';
const { writeFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`;
    if (process.env.HUSHFIELD_JEST_SUMMARY) writeFileSync(process.env.HUSHFIELD_JEST_SUMMARY, line);
    else process.stderr.write(`\n${line}\n`);
  }
}

module.exports = SummaryReporter;
