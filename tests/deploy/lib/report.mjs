// Named checks with pass/fail and their problems; the summary line is the
// plain "N passed, M failed" that CI reads.

export class Report {
  constructor() {
    this.passed = 0;
    this.failed = 0;
    this.skipped = 0;
  }

  // problems: array of strings; an empty array passes.
  record(name, problems) {
    if (problems.length === 0) {
      this.passed++;
      console.log(`PASS ${name}`);
      return;
    }
    this.failed++;
    console.log(`FAIL ${name}`);
    for (const p of problems) console.log(`     - ${p}`);
  }

  // Runs fn (returning problems); an exception is a failure with its message.
  async check(name, fn) {
    let problems;
    try {
      problems = await fn();
    } catch (e) {
      problems = [`${e.message}`];
    }
    this.record(name, problems);
  }

  skip(name, why) {
    this.skipped++;
    console.log(`SKIP ${name}: ${why}`);
  }

  summary() {
    const skipped = this.skipped ? `, ${this.skipped} skipped` : "";
    return `${this.passed} passed, ${this.failed} failed${skipped}`;
  }
}
