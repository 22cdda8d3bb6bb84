import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

/**
 * A browser test that is skipped is a test that does not exist: fail the run when any test is
 * skipped or none ran, and close with a plain `N passed, N failed` line.
 */
export default class NoSkipsReporter implements Reporter {
  readonly #skipped: string[] = [];
  readonly #outcomes = new Map<TestCase, 'passed' | 'failed'>();

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status === 'skipped') this.#skipped.push(test.titlePath().join(' > '));
    else this.#outcomes.set(test, test.outcome() === 'unexpected' ? 'failed' : 'passed');
  }

  async onEnd(result: FullResult): Promise<{ status: FullResult['status'] } | undefined> {
    const outcomes = [...this.#outcomes.values()];
    const passed = outcomes.filter((o) => o === 'passed').length;
    const failed = outcomes.length - passed;
    console.log(`browser: ${passed} passed, ${failed} failed`);
    if (this.#skipped.length > 0) {
      console.error(`Skipped browser tests are not allowed:\n  ${this.#skipped.join('\n  ')}`);
      return { status: 'failed' };
    }
    if (passed === 0 && result.status === 'passed') {
      console.error('No browser test ran.');
      return { status: 'failed' };
    }
    return undefined;
  }
}
