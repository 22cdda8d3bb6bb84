import { expect, test } from './fixtures.ts';
import { DEMO_PORT } from './ports.ts';

test('the demo page runs a map-reduce DAG in the tab and lists it from IndexedDB', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`http://127.0.0.1:${DEMO_PORT}/`);
  await expect(page.locator('#store')).toHaveText(/^indexeddb:handout-/);

  const width = 300;
  await page.getByLabel('Fan-out width').fill(String(width));
  await page.getByRole('button', { name: 'Run map-reduce' }).press('Enter');
  let expected = 0;
  for (let i = 0; i < width; i++) expected += i * i;
  await expect(page.locator('#run-status')).toContainText(
    `sum of squares below ${width} = ${expected}`,
  );
  await expect(page.locator('#dags li')).toHaveCount(1);
  await expect(page.locator('#dags li')).toContainText(`${width + 2} results`);

  await page.getByRole('button', { name: /^Clear DAG / }).click();
  await expect(page.locator('#dags li')).toHaveCount(0);
  expect(errors).toEqual([]);
});
